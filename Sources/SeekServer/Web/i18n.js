// Interface text in English and Chinese; the browser's language picks one (?lang=zh or
// ?lang=en overrides it).

const en = {
  newChat: 'New chat',
  search: 'Search chats',
  settings: 'Settings',
  openSidebar: 'Show chats',
  closeSidebar: 'Hide chats',
  retry: 'Retry',
  welcomeTitle: "Hi, I'm SwiftSeek.",
  welcomeText: 'How can I help you today?',
  placeholder: 'Message SwiftSeek',
  send: 'Send',
  stop: 'Stop',
  hint: 'Enter to send, Shift+Enter for a new line',
  model: 'Model',
  systemPrompt: 'System prompt',
  temperature: 'Temperature',
  maxTokens: 'Max tokens',
  auto: 'auto',
  cancel: 'Cancel',
  save: 'Save',
  delete: 'Delete',
  rename: 'Rename',
  edit: 'Edit',
  copy: 'Copy',
  copied: 'Copied',
  regenerate: 'Regenerate',
  saveAndSend: 'Send',
  apiKeyTitle: 'API key',
  apiKeyText: 'This server needs an API key. It is kept in this browser only.',
  apiKeyWrong: 'The server did not accept this key.',
  deleteTitle: 'Delete chat?',
  deleteText: '“{title}” and all its messages will be deleted.',
  untitled: 'New chat',
  noChats: 'No chats yet',
  noMatches: 'No chats match',
  today: 'Today',
  yesterday: 'Yesterday',
  week: 'Previous 7 days',
  month: 'Previous 30 days',
  older: 'Older',
  thinking: 'Thinking…',
  thought: 'Thought for {s} s',
  stopped: 'Stopped',
  truncated: 'Reached the token limit',
  stats: '{tps} tokens/s · {completion} tokens · {prompt} prompt tokens',
  statsNoUsage: '{tps} tokens/s · about {completion} tokens',
  errServerDown: 'Cannot reach the server. Is `swiftseek serve` still running?',
  errBusy: 'The server is busy (too many requests). Try again in a moment.',
  errContext: "This conversation is too long for the model's context. Start a new chat, or edit an earlier message to shorten it.",
  errUnauthorized: 'The API key was not accepted.',
  errServer: 'The server reported an error: {message}',
  errStream: 'The answer stopped with an error: {message}',
  errSave: 'Could not save: {message}',
  errLoad: 'Could not load chats: {message}',
  errTemperature: 'Temperature must be between 0 and 2.',
  errMaxTokens: 'Max tokens must be a whole number of at least 1, or empty.',
  modelDefault: 'server default',
};

const zh = {
  newChat: '开启新对话',
  search: '搜索对话',
  settings: '设置',
  openSidebar: '显示对话列表',
  closeSidebar: '隐藏对话列表',
  retry: '重试',
  welcomeTitle: '我是 SwiftSeek，很高兴见到你！',
  welcomeText: '我可以帮你写代码、读文件、写作各种创意内容，请把你的任务交给我吧～',
  placeholder: '给 SwiftSeek 发送消息',
  send: '发送',
  stop: '停止',
  hint: '按 Enter 发送，Shift+Enter 换行',
  model: '模型',
  systemPrompt: '系统提示词',
  temperature: '温度',
  maxTokens: '最大 token 数',
  auto: '自动',
  cancel: '取消',
  save: '保存',
  delete: '删除',
  rename: '重命名',
  edit: '编辑',
  copy: '复制',
  copied: '已复制',
  regenerate: '重新生成',
  saveAndSend: '发送',
  apiKeyTitle: 'API 密钥',
  apiKeyText: '此服务器需要 API 密钥。密钥只保存在本浏览器中。',
  apiKeyWrong: '服务器不接受这个密钥。',
  deleteTitle: '删除对话？',
  deleteText: '“{title}”及其全部消息将被删除。',
  untitled: '新对话',
  noChats: '还没有对话',
  noMatches: '没有匹配的对话',
  today: '今天',
  yesterday: '昨天',
  week: '7 天内',
  month: '30 天内',
  older: '更早',
  thinking: '思考中…',
  thought: '已深度思考（用时 {s} 秒）',
  stopped: '已停止',
  truncated: '已达到 token 上限',
  stats: '{tps} tokens/秒 · {completion} 个 token · 提示 {prompt} 个 token',
  statsNoUsage: '{tps} tokens/秒 · 约 {completion} 个 token',
  errServerDown: '无法连接服务器。`swiftseek serve` 还在运行吗？',
  errBusy: '服务器繁忙（请求过多），请稍后重试。',
  errContext: '对话超出了模型的上下文长度。请开启新对话，或编辑之前的消息将其缩短。',
  errUnauthorized: 'API 密钥未被接受。',
  errServer: '服务器报错：{message}',
  errStream: '回答因错误中断：{message}',
  errSave: '保存失败：{message}',
  errLoad: '无法加载对话：{message}',
  errTemperature: '温度必须在 0 到 2 之间。',
  errMaxTokens: '最大 token 数必须是不小于 1 的整数，或留空。',
  modelDefault: '服务器默认',
};

function pickLanguage() {
  const forced = new URLSearchParams(location.search).get('lang');
  const lang = (forced || navigator.language || 'en').toLowerCase();
  return lang.startsWith('zh') ? 'zh' : 'en';
}

export const language = pickLanguage();
const table = language === 'zh' ? zh : en;

/** The text for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = table[key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Fills the static page: data-i18n (text), data-i18n-placeholder, data-i18n-title. */
export function applyTranslations(root = document) {
  document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) {
    el.title = t(el.dataset.i18nTitle);
    el.setAttribute('aria-label', el.title);
  }
}
