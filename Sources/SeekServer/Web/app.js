// The SwiftSeek web chat. Talks to the server's public API: /v1/chat/completions (streamed),
// /v1/models, and /api/conversations for the history. Every message is saved before the next
// answer starts streaming. Model output only ever reaches the page as text nodes (markdown.js).

import { renderMarkdown, copyText } from './markdown.js';
import { t, applyTranslations } from './i18n.js';

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = 'swiftseek.apiKey';
const SETTINGS_STORAGE = 'swiftseek.settings';

const state = {
  conversations: [],
  current: null,          // {id, title, messages: [...]}
  streaming: null,        // {controller, conversationId}
  models: [],
  apiKey: localStorage.getItem(KEY_STORAGE) || '',
  search: '',
  settings: loadSettings(),
  stickToBottom: true,
};

function loadSettings() {
  const defaults = { model: '', system: '', temperature: 0.7, maxTokens: null };
  try {
    return { ...defaults, ...JSON.parse(localStorage.getItem(SETTINGS_STORAGE) || '{}') };
  } catch {
    return defaults;
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Icons are inline SVG (24×24, stroked): no icon font, so they draw the same everywhere.
const ICONS = {
  plus: ['M12 5v14M5 12h14'],
  close: ['M6 6l12 12M18 6L6 18'],
  menu: ['M4 7h16M4 12h16M4 17h16'],
  gear: ['M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z', 'M12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9 7 7M17 17l2.1 2.1M4.9 19.1 7 17M17 7l2.1-2.1'],
  copy: ['M9 9h11v11H9z', 'M5 15V5a2 2 0 0 1 2-2h8'],
  edit: ['M4 20h4L19 9l-4-4L4 16v4z', 'M13 7l4 4'],
  trash: ['M4 7h16M9 7V4h6v3', 'M6 7l1 13h10l1-13'],
  refresh: ['M20 12a8 8 0 1 1-2.3-5.7', 'M20 4v5h-5'],
  send: ['M12 19V5M5 12l7-7 7 7'],
  stop: ['M8 8h8v8H8z'],
};

function icon(name) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon icon-${name}`);
  svg.setAttribute('aria-hidden', 'true');
  for (const d of ICONS[name] ?? []) {
    const path = document.createElementNS(NS, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

function button(className, label, onClick, title) {
  const b = el('button', className);
  if (label in ICONS) b.append(icon(label));
  else b.textContent = label;
  b.type = 'button';
  if (title) { b.title = title; b.setAttribute('aria-label', title); }
  b.addEventListener('click', onClick);
  return b;
}

// ---------- errors and the API ----------

class ChatError extends Error {
  constructor(kind, message, status) {
    super(message);
    this.kind = kind;        // network | busy | context | auth | server | stream
    this.status = status;
  }
}

function describeError(e) {
  switch (e.kind) {
    case 'network': return t('errServerDown');
    case 'busy': return t('errBusy');
    case 'context': return t('errContext');
    case 'auth': return t('errUnauthorized');
    case 'stream': return t('errStream', { message: e.message });
    default: return t('errServer', { message: e.message });
  }
}

async function errorFrom(res) {
  let message = `HTTP ${res.status}`;
  let code = '';
  try {
    const body = await res.json();
    if (body?.error?.message) message = body.error.message;
    code = body?.error?.code || '';
  } catch { /* not JSON */ }
  if (res.status === 429) return new ChatError('busy', message, 429);
  if (code === 'context_length_exceeded') return new ChatError('context', message, res.status);
  if (res.status === 401) return new ChatError('auth', message, 401);
  return new ChatError('server', message, res.status);
}

/** fetch with the API key; on 401 asks for the key and tries again. */
async function request(path, { method = 'GET', body, signal } = {}) {
  for (;;) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (state.apiKey) headers.Authorization = `Bearer ${state.apiKey}`;
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ChatError('network', e.message);
    }
    if (res.status === 401) {
      await askForKey(Boolean(state.apiKey));
      continue;
    }
    if (!res.ok) throw await errorFrom(res);
    return res;
  }
}

async function api(path, options) {
  return (await request(path, options)).json();
}

let keyPrompt = null;
function askForKey(wrong) {
  if (keyPrompt) return keyPrompt;
  const dialog = $('key-dialog');
  $('key-error').hidden = !wrong;
  $('key-error').textContent = t('apiKeyWrong');
  $('key-input').value = '';
  keyPrompt = new Promise((resolve) => {
    const done = (event) => {
      event.preventDefault();
      const key = $('key-input').value.trim();
      if (!key) return;
      state.apiKey = key;
      localStorage.setItem(KEY_STORAGE, key);
      $('key-form').removeEventListener('submit', done);
      dialog.close();
      keyPrompt = null;
      resolve();
    };
    $('key-form').addEventListener('submit', done);
    dialog.addEventListener('cancel', (e) => e.preventDefault());
  });
  dialog.showModal();
  $('key-input').focus();
  return keyPrompt;
}

function showBanner(text, retry) {
  $('banner-text').textContent = text;
  $('banner').hidden = false;
  $('banner-retry').onclick = () => { $('banner').hidden = true; retry(); };
}

function hideBanner() {
  $('banner').hidden = true;
}

// ---------- sidebar ----------

async function loadConversations() {
  try {
    const q = state.search ? `?q=${encodeURIComponent(state.search)}` : '';
    const list = await api(`/api/conversations${q}`);
    state.conversations = list.data;
    hideBanner();
  } catch (e) {
    showBanner(t('errLoad', { message: describeError(e) }), loadConversations);
  }
  renderSidebar();
}

function groupOf(ms) {
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  const day = 86400000;
  if (ms >= start.getTime()) return 'today';
  if (ms >= start.getTime() - day) return 'yesterday';
  if (ms >= start.getTime() - 7 * day) return 'week';
  if (ms >= start.getTime() - 30 * day) return 'month';
  return 'older';
}

function renderSidebar() {
  const nav = $('conversation-list');
  nav.replaceChildren();
  if (!state.conversations.length) {
    nav.append(el('p', 'empty-list', state.search ? t('noMatches') : t('noChats')));
    return;
  }
  let group = null;
  for (const c of state.conversations) {
    const g = groupOf(c.updated_at);
    if (g !== group) {
      nav.append(el('h4', 'group-title', t(g)));
      group = g;
    }
    nav.append(conversationItem(c));
  }
}

function conversationItem(c) {
  const item = el('div', 'conversation-item');
  item.dataset.id = c.id;
  if (state.current?.id === c.id) item.classList.add('active');
  const title = button('conversation-title', c.title, () => openConversation(c.id));
  title.title = c.title;
  const actions = el('span', 'conversation-actions');
  actions.append(
    button('icon-btn rename', 'edit', () => startRename(item, c), t('rename')),
    button('icon-btn delete', 'trash', () => confirmDelete(c), t('delete')),
  );
  item.append(title, actions);
  return item;
}

function startRename(item, c) {
  const input = el('input', 'rename-input');
  input.value = c.title;
  input.maxLength = 200;
  item.replaceChildren(input);
  input.focus();
  input.select();
  let finished = false;
  const finish = async (save) => {
    if (finished) return;
    finished = true;
    const title = input.value.trim();
    if (save && title && title !== c.title) {
      try {
        const updated = await api(`/api/conversations/${c.id}`, { method: 'PATCH', body: { title } });
        if (state.current?.id === c.id) {
          state.current.title = updated.title;
          renderTitle();
        }
      } catch (e) {
        showBanner(t('errSave', { message: describeError(e) }), () => startRename(item, c));
      }
    }
    await loadConversations();
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); finish(true); }
    if (e.key === 'Escape') { e.preventDefault(); finish(false); }
  });
  input.addEventListener('blur', () => finish(true));
}

function confirm(title, text) {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

async function confirmDelete(c) {
  if (!(await confirm(t('deleteTitle'), t('deleteText', { title: c.title })))) return;
  try {
    await request(`/api/conversations/${c.id}`, { method: 'DELETE' });
    if (state.current?.id === c.id) newChat();
  } catch (e) {
    showBanner(t('errSave', { message: describeError(e) }), () => confirmDelete(c));
  }
  await loadConversations();
}

// ---------- conversations ----------

function newChat() {
  if (state.streaming) stopStreaming();
  state.current = null;
  history.replaceState(null, '', location.pathname + location.search);
  renderConversation();
  renderSidebar();
  closeSidebar();
  $('input').focus();
}

async function openConversation(id) {
  if (state.streaming) stopStreaming();
  try {
    state.current = await api(`/api/conversations/${encodeURIComponent(id)}`);
    history.replaceState(null, '', `#${id}`);
    hideBanner();
  } catch (e) {
    if (e.status === 404) {
      history.replaceState(null, '', location.pathname + location.search);
      state.current = null;
    } else {
      showBanner(t('errLoad', { message: describeError(e) }), () => openConversation(id));
    }
  }
  state.stickToBottom = true;
  renderConversation();
  renderSidebar();
  closeSidebar();
}

function renderTitle() {
  $('chat-title').textContent = state.current ? state.current.title : '';
  document.title = state.current ? `${state.current.title} · SwiftSeek` : 'SwiftSeek';
}

function renderConversation() {
  renderTitle();
  const box = $('messages');
  box.replaceChildren();
  const messages = state.current?.messages ?? [];
  $('welcome').hidden = messages.length > 0;
  const lastAssistant = messages.findLastIndex((m) => m.role === 'assistant');
  messages.forEach((m, k) => {
    if (m.role === 'system') return;
    box.append(m.role === 'user' ? userMessage(m) : assistantMessage(m, k === lastAssistant && k === messages.length - 1));
  });
  scrollToBottom(true);
}

function userMessage(m) {
  const node = el('div', 'message user');
  node.dataset.id = m.id;
  const bubble = el('div', 'bubble content', m.content);
  const actions = el('div', 'message-actions');
  actions.append(
    button('icon-btn copy', 'copy', () => copyText(m.content), t('copy')),
    button('icon-btn edit', 'edit', () => startEdit(node, m), t('edit')),
  );
  node.append(bubble, actions);
  return node;
}

function startEdit(node, m) {
  if (state.streaming) return;
  const area = el('textarea', 'edit-input');
  area.value = m.content;
  const row = el('div', 'edit-buttons');
  const cancel = button('secondary', t('cancel'), () => renderConversation());
  const send = button('primary save-edit', t('saveAndSend'), async () => {
    const content = area.value.trim();
    if (!content) return;
    try {
      state.current = await api(`/api/conversations/${state.current.id}`, {
        method: 'PATCH', body: { edit: { message_id: m.id, content }, truncate_after: m.id },
      });
    } catch (e) {
      showBanner(t('errSave', { message: describeError(e) }), () => {});
      return;
    }
    renderConversation();
    streamAnswer();
  });
  row.append(cancel, send);
  node.replaceChildren(area, row);
  area.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send.click(); }
    if (e.key === 'Escape') renderConversation();
  });
  area.focus();
}

function thinkingBlock(reasoning, ms, live) {
  const details = el('details', 'thinking');
  details.open = true;
  const summary = el('summary', 'thinking-summary', live ? t('thinking') : t('thought', { s: ((ms ?? 0) / 1000).toFixed(1) }));
  const body = el('div', 'thinking-body', reasoning);
  details.append(summary, body);
  return details;
}

function statsLine(m) {
  const parts = [];
  if (m.finish_reason === 'stopped') parts.push(t('stopped'));
  if (m.finish_reason === 'length') parts.push(t('truncated'));
  if (m.completion_tokens != null) {
    const tps = m.tokens_per_second != null ? m.tokens_per_second.toFixed(1) : '–';
    parts.push(m.prompt_tokens != null
      ? t('stats', { tps, completion: m.completion_tokens, prompt: m.prompt_tokens })
      : t('statsNoUsage', { tps, completion: m.completion_tokens }));
  }
  return el('div', 'stats', parts.join(' · '));
}

function renderContent(target, text) {
  target.replaceChildren(renderMarkdown(text, { copyLabel: t('copy'), copiedLabel: t('copied') }));
}

function assistantMessage(m, isLast) {
  const node = el('div', 'message assistant');
  node.dataset.id = m.id;
  const avatar = el('img', 'avatar');
  avatar.src = '/assets/icon.svg';
  avatar.alt = '';
  const body = el('div', 'assistant-body');
  if (m.reasoning_content) {
    const block = thinkingBlock(m.reasoning_content, m.thinking_ms, false);
    block.open = false;
    body.append(block);
  }
  const content = el('div', 'content markdown');
  renderContent(content, m.content);
  body.append(content, statsLine(m));
  const actions = el('div', 'message-actions');
  actions.append(button('icon-btn copy', 'copy', () => copyText(m.content), t('copy')));
  if (isLast) actions.append(button('icon-btn regenerate', 'refresh', () => regenerate(m), t('regenerate')));
  body.append(actions);
  node.append(avatar, body);
  return node;
}

async function regenerate(m) {
  if (state.streaming || !state.current) return;
  const index = state.current.messages.findIndex((x) => x.id === m.id);
  const before = state.current.messages.slice(0, index).findLast((x) => x.role !== 'assistant');
  try {
    state.current = await api(`/api/conversations/${state.current.id}`, {
      method: 'PATCH', body: { truncate_after: before ? before.id : 0 },
    });
  } catch (e) {
    showBanner(t('errSave', { message: describeError(e) }), () => regenerate(m));
    return;
  }
  renderConversation();
  streamAnswer();
}

// ---------- sending and streaming ----------

async function send() {
  const input = $('input');
  const text = input.value.trim();
  if (!text || state.streaming) return;
  hideBanner();
  try {
    if (!state.current) {
      const oneLine = text.replace(/\s+/g, ' ');
      const title = oneLine.length > 50 ? `${oneLine.slice(0, 50).replace(/\s+\S*$/, '')}…` : oneLine;
      state.current = await api('/api/conversations', { method: 'POST', body: { title } });
      history.replaceState(null, '', `#${state.current.id}`);
    }
    // The question is committed before the answer starts.
    state.current = await api(`/api/conversations/${state.current.id}`, {
      method: 'PATCH', body: { append: { role: 'user', content: text } },
    });
  } catch (e) {
    showBanner(t('errSave', { message: describeError(e) }), send);
    return;
  }
  input.value = '';
  autosize();
  updateSendButton();
  renderConversation();
  loadConversations();
  streamAnswer();
}

function chatBody() {
  const s = state.settings;
  const messages = [];
  if (s.system.trim()) messages.push({ role: 'system', content: s.system });
  for (const m of state.current.messages) messages.push({ role: m.role, content: m.content });
  const body = { messages, stream: true, stream_options: { include_usage: true } };
  if (s.model) body.model = s.model;
  if (s.temperature != null) body.temperature = s.temperature;
  if (s.maxTokens) body.max_tokens = s.maxTokens;
  return body;
}

/** Server-sent events from a fetch response body: yields each `data:` payload. */
async function* sseData(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (data) yield data;
    }
  }
}

// How many answers have ended (saved, stopped or failed): tests and tools can wait on it.
let answersEnded = 0;
function answerEnded() {
  document.body.dataset.answers = String(++answersEnded);
}

function setStreaming(on) {
  document.body.dataset.streaming = on ? 'true' : 'false';
  $('send').hidden = on;
  $('stop').hidden = !on;
  updateSendButton();
}

function stopStreaming() {
  state.streaming?.controller.abort();
}

async function streamAnswer() {
  const conversation = state.current;
  const controller = new AbortController();
  state.streaming = { controller, conversationId: conversation.id };
  setStreaming(true);
  $('welcome').hidden = true;

  // The answer in progress, drawn in place; it becomes a stored message when it ends.
  const node = el('div', 'message assistant pending');
  const avatar = el('img', 'avatar');
  avatar.src = '/assets/icon.svg';
  avatar.alt = '';
  const body = el('div', 'assistant-body');
  const content = el('div', 'content markdown');
  const cursor = el('span', 'cursor');
  content.append(cursor);
  body.append(content);
  node.append(avatar, body);
  $('messages').append(node);
  scrollToBottom(true);

  let text = '', reasoning = '';
  let thinking = null;
  let firstTokenAt = null, reasoningStart = null, reasoningMs = null;
  let chunks = 0, usage = null, finish = null, model = null;
  let frame = 0;
  const draw = () => {
    frame = 0;
    if (thinking) {
      thinking.querySelector('.thinking-body').textContent = reasoning;
      thinking.querySelector('.thinking-summary').textContent = reasoningMs == null ? t('thinking') : t('thought', { s: (reasoningMs / 1000).toFixed(1) });
    }
    renderContent(content, text);
    if (finish == null) {
      // The cursor goes at the end of the last paragraph or list item, not below it.
      let target = content.lastElementChild;
      while (target && /^(UL|OL|LI|BLOCKQUOTE)$/.test(target.tagName)) {
        const last = target.lastElementChild;
        if (!last || !/^(UL|OL|LI|P|BLOCKQUOTE)$/.test(last.tagName)) break;
        target = last;
      }
      (target && /^(P|LI|H[1-6])$/.test(target.tagName) ? target : content).append(cursor);
    }
    scrollToBottom(false);
  };
  const schedule = () => { if (!frame) frame = requestAnimationFrame(draw); };

  let failure = null;
  try {
    const res = await request('/v1/chat/completions', { method: 'POST', body: chatBody(), signal: controller.signal });
    for await (const data of sseData(res.body)) {
      if (data === '[DONE]') break;
      let chunk;
      try { chunk = JSON.parse(data); } catch { continue; }
      if (chunk.error) throw new ChatError('stream', chunk.error.message || 'error');
      if (chunk.model) model = chunk.model;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const delta = choice.delta || {};
      const now = performance.now();
      if (delta.reasoning_content) {
        if (firstTokenAt == null) firstTokenAt = now;
        if (reasoningStart == null) reasoningStart = now;
        if (!thinking) {
          thinking = thinkingBlock('', null, true);
          body.insertBefore(thinking, content);
        }
        reasoning += delta.reasoning_content;
        chunks++;
      }
      if (delta.content) {
        if (firstTokenAt == null) firstTokenAt = now;
        if (reasoningStart != null && reasoningMs == null) reasoningMs = Math.round(now - reasoningStart);
        text += delta.content;
        chunks++;
      }
      if (choice.finish_reason) finish = choice.finish_reason;
      schedule();
    }
    if (finish == null) finish = 'stop';
  } catch (e) {
    if (e.name === 'AbortError') finish = 'stopped';
    else failure = e instanceof ChatError ? e : new ChatError('network', e.message);
  }
  const end = performance.now();
  if (frame) cancelAnimationFrame(frame);
  if (reasoningStart != null && reasoningMs == null) reasoningMs = Math.round(end - reasoningStart);
  state.streaming = null;
  setStreaming(false);

  if (failure) {
    finish = 'error';
    draw();
    node.classList.remove('pending');
    node.classList.add('failed');
    body.append(errorBox(failure, () => { node.remove(); streamAnswer(); }));
    scrollToBottom(false);
    answerEnded();
    return;
  }

  const completion = usage?.completion_tokens ?? chunks;
  const seconds = firstTokenAt != null ? (end - firstTokenAt) / 1000 : 0;
  const message = {
    role: 'assistant', content: text, finish_reason: finish,
    completion_tokens: completion,
    tokens_per_second: seconds > 0 && completion > 1 ? (completion - 1) / seconds : null,
  };
  if (usage) message.prompt_tokens = usage.prompt_tokens;
  if (reasoning) { message.reasoning_content = reasoning; message.thinking_ms = reasoningMs; }
  if (model) message.model = model;
  if (!text && !reasoning && finish === 'stopped') {  // stopped before anything came: nothing to keep
    node.remove();
    renderConversation();
    answerEnded();
    return;
  }
  // Saved before anything else can start; if saving fails the answer stays on screen with a
  // retry that saves it again.
  const save = async () => {
    try {
      const saved = await api(`/api/conversations/${conversation.id}`, { method: 'PATCH', body: { append: message } });
      if (state.current?.id === conversation.id) {
        state.current = saved;
        renderConversation();
      }
      loadConversations();
    } catch (e) {
      draw();
      node.classList.remove('pending');
      node.classList.add('failed');
      body.querySelector('.error-box')?.remove();
      body.append(errorBox(e instanceof ChatError ? e : new ChatError('server', e.message), save, 'errSave'));
    }
  };
  await save();
  answerEnded();
}

/** An error under an answer; `context` (an i18n key such as 'errSave') says what failed. */
function errorBox(error, retry, context) {
  const box = el('div', `error-box error-${error.kind}`);
  box.setAttribute('role', 'alert');
  const text = describeError(error);
  box.append(el('span', 'error-text', context ? t(context, { message: text }) : text));
  if (retry) box.append(button('retry primary', t('retry'), retry));
  return box;
}

// ---------- layout helpers ----------

function scrollToBottom(force) {
  const s = $('scroller');
  if (force || state.stickToBottom) s.scrollTop = s.scrollHeight;
}

function autosize() {
  const input = $('input');
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 240)}px`;
}

function updateSendButton() {
  $('send').disabled = !$('input').value.trim() || Boolean(state.streaming);
}

function openSidebar() { $('app').classList.add('sidebar-open'); }
function closeSidebar() { $('app').classList.remove('sidebar-open'); }

// ---------- settings ----------

async function loadModels() {
  try {
    const list = await api('/v1/models');
    state.models = list.data.map((m) => m.id);
  } catch {
    state.models = [];
  }
  $('model-name').textContent = state.settings.model || state.models[0] || '';
}

function openSettings() {
  const s = state.settings;
  const select = $('set-model');
  select.replaceChildren(new Option(t('modelDefault'), ''));
  for (const id of state.models) select.append(new Option(id, id));
  if (s.model && !state.models.includes(s.model)) select.append(new Option(s.model, s.model));
  select.value = s.model;
  $('set-system').value = s.system;
  $('set-temperature').value = s.temperature ?? '';
  $('set-max-tokens').value = s.maxTokens ?? '';
  $('settings-error').hidden = true;
  $('settings-dialog').showModal();
}

function saveSettings(event) {
  event.preventDefault();
  const temperature = $('set-temperature').value === '' ? null : Number($('set-temperature').value);
  const maxRaw = $('set-max-tokens').value.trim();
  const maxTokens = maxRaw === '' ? null : Number(maxRaw);
  const error = $('settings-error');
  if (temperature != null && !(temperature >= 0 && temperature <= 2)) {
    error.textContent = t('errTemperature');
    error.hidden = false;
    return;
  }
  if (maxTokens != null && !(Number.isInteger(maxTokens) && maxTokens >= 1)) {
    error.textContent = t('errMaxTokens');
    error.hidden = false;
    return;
  }
  state.settings = { model: $('set-model').value, system: $('set-system').value, temperature, maxTokens };
  localStorage.setItem(SETTINGS_STORAGE, JSON.stringify(state.settings));
  $('model-name').textContent = state.settings.model || state.models[0] || '';
  $('settings-dialog').close();
}

// ---------- start ----------

function bind() {
  applyTranslations();
  for (const span of document.querySelectorAll('[data-icon]')) span.replaceWith(icon(span.dataset.icon));
  const input = $('input');
  input.addEventListener('input', () => { autosize(); updateSendButton(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  $('composer').addEventListener('submit', (e) => { e.preventDefault(); send(); });
  $('stop').addEventListener('click', stopStreaming);
  $('new-chat').addEventListener('click', newChat);
  $('new-chat-top').addEventListener('click', newChat);
  $('open-sidebar').addEventListener('click', openSidebar);
  $('close-sidebar').addEventListener('click', closeSidebar);
  $('scrim').addEventListener('click', closeSidebar);
  $('open-settings').addEventListener('click', openSettings);
  $('settings-form').addEventListener('submit', saveSettings);
  $('settings-cancel').addEventListener('click', () => $('settings-dialog').close());
  let timer = 0;
  $('search').addEventListener('input', (e) => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.search = e.target.value.trim(); loadConversations(); }, 200);
  });
  $('scroller').addEventListener('scroll', () => {
    const s = $('scroller');
    state.stickToBottom = s.scrollHeight - s.scrollTop - s.clientHeight < 60;
  });
  window.addEventListener('hashchange', () => {
    const id = location.hash.slice(1);
    if (id && id !== state.current?.id) openConversation(id);
  });
}

async function start() {
  bind();
  setStreaming(false);
  renderConversation();
  await loadConversations();
  const id = location.hash.slice(1);
  if (id) await openConversation(id);
  await loadModels();
  document.body.dataset.answers = '0';
  document.body.dataset.ready = 'true';
  $('input').focus();
}

start();
