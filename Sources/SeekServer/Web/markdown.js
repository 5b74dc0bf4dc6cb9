// A small Markdown renderer for model answers. It builds DOM nodes and puts all text in text
// nodes, so nothing the model writes is ever parsed as HTML. Covers what chat answers use:
// headings, paragraphs, emphasis, strikethrough, inline code, links (http, https, mailto and
// same-site only), bare URLs, block quotes, nested lists, GFM tables, rules, and fenced code
// blocks with a copy button. An unclosed fence (an answer still streaming) renders as code.

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const LIST_ITEM = /^( *)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;
const TABLE_SEPARATOR = /^ *\|? *:?-+:? *(\| *:?-+:? *)*\|? *$/;

/**
 * Renders `source` into a DocumentFragment.
 * options.copyLabel / options.copiedLabel: the code blocks' copy button text.
 */
export function renderMarkdown(source, options = {}) {
  const fragment = document.createDocumentFragment();
  const lines = String(source ?? '').replace(/\r\n?/g, '\n').split('\n');
  renderBlocks(lines, fragment, options, 0);
  return fragment;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function isBlank(line) {
  return /^\s*$/.test(line);
}

function indentOf(line) {
  const m = /^ */.exec(line.replace(/\t/g, '    '));
  return m[0].length;
}

function startsBlock(line) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || LIST_ITEM.test(line);
}

function renderBlocks(lines, parent, options, depth) {
  if (depth > 20) {  // absurd nesting: the rest is plain text
    parent.append(el('p', null, lines.join('\n')));
    return;
  }
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) { i++; continue; }

    let m = FENCE.exec(line);
    if (m) {
      const fence = m[1];
      const lang = m[2].replace(/[^\w+#.-]/g, '').slice(0, 30);
      const indent = indentOf(line);
      const body = [];
      i++;
      while (i < lines.length) {
        const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(lines[i]);
        if (close && close[1][0] === fence[0] && close[1].length >= fence.length) { i++; break; }
        body.push(stripIndent(lines[i], indent));
        i++;
      }
      parent.append(codeBlock(body.join('\n'), lang, options));
      continue;
    }

    m = HEADING.exec(line);
    if (m) {
      const h = el(`h${m[1].length}`);
      renderInline(m[2] ?? '', h);
      parent.append(h);
      i++;
      continue;
    }

    if (RULE.test(line)) {
      parent.append(el('hr'));
      i++;
      continue;
    }

    if (QUOTE.test(line)) {
      const inner = [];
      while (i < lines.length && !isBlank(lines[i])) {
        const q = QUOTE.exec(lines[i]);
        if (q) inner.push(q[1]);
        else if (inner.length && !startsBlock(lines[i])) inner.push(lines[i]);  // lazy continuation
        else break;
        i++;
      }
      const quote = el('blockquote');
      renderBlocks(inner, quote, options, depth + 1);
      parent.append(quote);
      continue;
    }

    if (LIST_ITEM.test(line)) {
      i = renderList(lines, i, parent, options, depth);
      continue;
    }

    if (line.includes('|') && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      const header = splitRow(line);
      const aligns = splitRow(lines[i + 1]).map((cell) => {
        const left = cell.startsWith(':'), right = cell.endsWith(':');
        return left && right ? 'center' : right ? 'right' : left ? 'left' : '';
      });
      if (aligns.length === header.length) {
        i += 2;
        const rows = [];
        while (i < lines.length && !isBlank(lines[i]) && lines[i].includes('|')) rows.push(splitRow(lines[i++]));
        parent.append(table(header, aligns, rows));
        continue;
      }
    }

    // A paragraph: until a blank line or the start of another block.
    const text = [line];
    i++;
    while (i < lines.length && !isBlank(lines[i]) && !startsBlock(lines[i]) &&
           !(lines[i].includes('|') && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1]))) {
      text.push(lines[i]);
      i++;
    }
    const p = el('p');
    renderInline(text.map((l) => l.trim()).join('\n'), p);
    parent.append(p);
  }
}

function stripIndent(line, n) {
  let k = 0;
  while (k < n && line[k] === ' ') k++;
  return line.slice(k);
}

function renderList(lines, start, parent, options, depth) {
  const first = LIST_ITEM.exec(lines[start]);
  const baseIndent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const list = el(ordered ? 'ol' : 'ul');
  if (ordered) {
    const n = parseInt(first[2], 10);
    if (n !== 1) list.start = n;
  }
  const items = [];
  let current = null;
  let i = start;
  let sawBlank = false;
  while (i < lines.length) {
    const line = lines[i];
    const m = LIST_ITEM.exec(line);
    if (m && m[1].length <= baseIndent + 1 && /\d/.test(m[2]) === ordered) {
      current = { lines: [m[3] ?? ''], contentIndent: m[1].length + m[2].length + 1, loose: sawBlank && items.length > 0 };
      items.push(current);
      sawBlank = false;
      i++;
      continue;
    }
    if (isBlank(line)) {
      // The list goes on only if the next non-blank line belongs to it.
      let j = i + 1;
      while (j < lines.length && isBlank(lines[j])) j++;
      if (j >= lines.length) break;
      const next = LIST_ITEM.exec(lines[j]);
      const continues = indentOf(lines[j]) > baseIndent || (next && next[1].length <= baseIndent + 1 && /\d/.test(next[2]) === ordered);
      if (!continues) break;
      current.lines.push('');
      sawBlank = true;
      i++;
      continue;
    }
    if (indentOf(line) > baseIndent) {
      current.lines.push(stripIndent(line.replace(/\t/g, '    '), Math.min(current.contentIndent, indentOf(line))));
      i++;
      continue;
    }
    if (!sawBlank && !startsBlock(line)) {  // lazy continuation of the item's paragraph
      current.lines.push(line.trim());
      i++;
      continue;
    }
    break;
  }
  for (const item of items) {
    const li = el('li');
    renderBlocks(item.lines, li, options, depth + 1);
    // A tight item shows its paragraph without the paragraph's margins.
    const firstChild = li.firstElementChild;
    if (firstChild && firstChild.tagName === 'P' && !item.loose && !item.lines.includes('')) {
      firstChild.replaceWith(...firstChild.childNodes);
    }
    list.append(li);
  }
  parent.append(list);
  return i;
}

function splitRow(line) {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  const cells = [];
  let cell = '';
  let inCode = false;
  for (let k = 0; k < s.length; k++) {
    const ch = s[k];
    if (ch === '\\' && s[k + 1] === '|') { cell += '|'; k++; continue; }
    if (ch === '`') inCode = !inCode;
    if (ch === '|' && !inCode) { cells.push(cell.trim()); cell = ''; continue; }
    cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

function table(header, aligns, rows) {
  const wrap = el('div', 'table-wrap');
  const t = el('table');
  const thead = el('thead');
  const tr = el('tr');
  header.forEach((cell, k) => {
    const th = el('th', aligns[k] ? `align-${aligns[k]}` : null);
    renderInline(cell, th);
    tr.append(th);
  });
  thead.append(tr);
  const tbody = el('tbody');
  for (const row of rows) {
    const r = el('tr');
    for (let k = 0; k < header.length; k++) {
      const td = el('td', aligns[k] ? `align-${aligns[k]}` : null);
      renderInline(row[k] ?? '', td);
      r.append(td);
    }
    tbody.append(r);
  }
  t.append(thead, tbody);
  wrap.append(t);
  return wrap;
}

function codeBlock(text, lang, options) {
  const block = el('div', 'code-block');
  const head = el('div', 'code-head');
  head.append(el('span', 'code-lang', lang || 'text'));
  const copy = el('button', 'copy-code', options.copyLabel ?? 'Copy');
  copy.type = 'button';
  copy.addEventListener('click', () => {
    copyText(text).then(() => {
      copy.textContent = options.copiedLabel ?? 'Copied';
      setTimeout(() => { copy.textContent = options.copyLabel ?? 'Copy'; }, 1500);
    });
  });
  head.append(copy);
  const pre = el('pre');
  const code = el('code', lang ? `language-${lang}` : null, text);
  pre.append(code);
  block.append(head, pre);
  return block;
}

/** Copies text to the clipboard (with a fallback where the Clipboard API is missing). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = el('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

// ---------- inline ----------

const PUNCT = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/;
const BARE_URL = /^https?:\/\/[^\s<>"]*[^\s<>".,:;'")\]!?*_~]/;

/** A link target we allow: http(s), mailto, or same-site paths and fragments. */
export function safeHref(url) {
  const u = url.trim();
  if (/^(https?:\/\/|mailto:)/i.test(u)) return u;
  if (/^(\/(?!\/)|#)/.test(u)) return u;
  return null;
}

function link(href, build) {
  const a = el('a');
  a.href = href;
  if (!href.startsWith('#')) {
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
  }
  build(a);
  return a;
}

/** Renders inline Markdown from `text` into `parent`. */
export function renderInline(text, parent, depth = 0) {
  if (depth > 10) { parent.append(text); return; }
  let buffer = '';
  const flush = () => { if (buffer) { parent.append(document.createTextNode(buffer)); buffer = ''; } };
  // Searches that failed from a position fail from every later one: remembering them keeps
  // pathological text (thousands of `**` or `[`) linear instead of quadratic.
  const misses = {};
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const rest = text.slice(i);

    if (ch === '\\' && i + 1 < text.length && PUNCT.test(text[i + 1])) { buffer += text[i + 1]; i += 2; continue; }
    if (ch === '\n') { flush(); parent.append(el('br')); i++; continue; }

    if (ch === '`') {
      const run = /^`+/.exec(rest)[0];
      const end = findRun(text, '`', run.length, i + run.length);
      if (end >= 0) {
        flush();
        let code = text.slice(i + run.length, end).replace(/\n/g, ' ');
        if (/^ .* $/.test(code) && code.trim()) code = code.slice(1, -1);
        parent.append(el('code', null, code));
        i = end + run.length;
        continue;
      }
      buffer += run;
      i += run.length;
      continue;
    }

    if ((ch === '*' || ch === '_' || ch === '~') && text[i + 1] === ch && text[i + 2] !== ch) {
      const before = text[i - 1] ?? ' ';
      const intraword = ch === '_' && /\w/.test(before);
      const close = intraword ? -1 : findClosing(text, ch + ch, i + 2, misses);
      if (close > i + 2) {
        flush();
        const node = el(ch === '~' ? 'del' : 'strong');
        renderInline(text.slice(i + 2, close), node, depth + 1);
        parent.append(node);
        i = close + 2;
        continue;
      }
    }

    if ((ch === '*' || ch === '_') && text[i + 1] !== ch && text[i + 1] !== undefined && !/\s/.test(text[i + 1])) {
      const before = text[i - 1] ?? ' ';
      const intraword = ch === '_' && /\w/.test(before);
      const close = intraword ? -1 : findClosing(text, ch, i + 1, misses);
      if (close > i + 1 && !(ch === '_' && /\w/.test(text[close + 1] ?? ''))) {
        flush();
        const node = el('em');
        renderInline(text.slice(i + 1, close), node, depth + 1);
        parent.append(node);
        i = close + 1;
        continue;
      }
    }

    if (ch === '[' || (ch === '!' && text[i + 1] === '[')) {
      const open = ch === '!' ? i + 1 : i;
      const parsed = parseLink(text, open, misses);
      if (parsed) {
        flush();
        const href = safeHref(parsed.url);
        if (ch === '!') {
          // Images are not loaded (the page fetches nothing from elsewhere): show a link.
          if (href) parent.append(link(href, (a) => { a.textContent = parsed.label || parsed.url; }));
          else parent.append(document.createTextNode(parsed.label));
        } else if (href) {
          parent.append(link(href, (a) => renderInline(parsed.label, a, depth + 1)));
        } else {
          renderInline(parsed.label, parent, depth + 1);
        }
        i = parsed.end;
        continue;
      }
    }

    if (ch === '<') {
      const auto = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i.exec(rest);
      if (auto) {
        flush();
        parent.append(link(auto[1], (a) => { a.textContent = auto[1]; }));
        i += auto[0].length;
        continue;
      }
    }

    if ((ch === 'h' || ch === 'H') && !/\w/.test(text[i - 1] ?? '')) {
      const url = BARE_URL.exec(rest);
      if (url) {
        flush();
        parent.append(link(url[0], (a) => { a.textContent = url[0]; }));
        i += url[0].length;
        continue;
      }
    }

    buffer += ch;
    i++;
  }
  flush();
}

function findRun(text, ch, length, from) {
  let k = from;
  while (k < text.length) {
    if (text[k] === ch) {
      let n = 0;
      while (text[k + n] === ch) n++;
      if (n === length) return k;
      k += n;
    } else {
      k++;
    }
  }
  return -1;
}

/** The next `delim` that can close (not after whitespace, not inside a code span). */
function findClosing(text, delim, from, misses = {}) {
  if (from >= (misses[delim] ?? Infinity)) return -1;
  let k = from;
  while (k < text.length) {
    if (text[k] === '\\') { k += 2; continue; }
    if (text[k] === '`') {
      const run = /^`+/.exec(text.slice(k))[0];
      const end = findRun(text, '`', run.length, k + run.length);
      k = end >= 0 ? end + run.length : k + run.length;
      continue;
    }
    if (text.startsWith(delim, k) && !/\s/.test(text[k - 1] ?? ' ')) {
      if (delim.length === 1 && text[k + 1] === delim) { k += 2; continue; }
      return k;
    }
    k++;
  }
  misses[delim] = Math.min(misses[delim] ?? Infinity, from);
  return -1;
}

/** `[label](url "title")` starting at `open` (the `[`); null if it is not one. */
function parseLink(text, open, misses = {}) {
  // No `](` after here means no link from here on.
  if (misses.linkEnd === undefined) misses.linkEnd = text.lastIndexOf('](');
  if (open > misses.linkEnd) return null;
  let depth = 0;
  let k = open;
  for (; k < text.length; k++) {
    if (text[k] === '\\') { k++; continue; }
    if (text[k] === '[') depth++;
    else if (text[k] === ']' && --depth === 0) break;
    else if (text[k] === '\n' && text[k + 1] === '\n') return null;
  }
  if (k >= text.length || text[k + 1] !== '(') return null;
  if (misses.lastParen === undefined) misses.lastParen = text.lastIndexOf(')');
  if (k + 2 > misses.lastParen) return null;
  const label = text.slice(open + 1, k);
  let j = k + 2;
  let parens = 0;
  let url = '';
  while (j < text.length) {
    const c = text[j];
    if (c === '(') parens++;
    if (c === ')') { if (parens === 0) break; parens--; }
    if (c === '\n') return null;
    url += c;
    j++;
  }
  if (j >= text.length) return null;
  url = url.trim().replace(/\s+"[^"]*"$/, '').replace(/^<(.*)>$/, '$1');
  return { label, url, end: j + 1 };
}
