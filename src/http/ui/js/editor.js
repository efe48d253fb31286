// The SQL editor: a plain <textarea> (so typing, undo, selection, IME and screen readers
// behave as everywhere) over a <pre> that shows the same text highlighted. The textarea's
// text is transparent and it grows with its content, so the two always line up and neither
// scrolls. Ctrl+Enter (Cmd+Enter) runs; Tab is left to move focus, so the page stays
// keyboard reachable. markError({line, column}) underlines the token the server's
// sql_error position points at, until the next edit. With a `complete` function it also
// offers names while one is typed (see attachCompletion below).

const KEYWORDS = new Set(`select from where group by order having limit offset as and or not in is null
like ilike between case when then else end join left right full outer inner cross on using
union all intersect except distinct with recursive asc desc nulls first last exists cast
true false describe summarize show explain analyze values over partition window filter
qualify pivot unpivot lateral natural semi anti asof any some tables table interval
date timestamp time varchar integer bigint double float boolean decimal text struct list
map array create insert update delete drop alter copy attach into set`.split(/\s+/));

const TOKEN = new RegExp([
  /(--[^\n]*|\/\*[\s\S]*?(?:\*\/|$))/.source,            // 1 comment
  /('(?:[^']|'')*(?:'|$))/.source,                       // 2 string
  /("(?:[^"]|"")*(?:"|$))/.source,                       // 3 quoted identifier
  /(\b\d+(?:\.\d*)?(?:[eE][+-]?\d+)?\b|\.\d+\b)/.source, // 4 number
  /([A-Za-z_][A-Za-z0-9_$]*)/.source,                    // 5 word
  /(\$\d+|\?)/.source,                                   // 6 parameter
].join('|'), 'g');

// Splits text into [{text, cls}] covering every character.
export function tokenize(text) {
  const out = [];
  let last = 0, m;
  TOKEN.lastIndex = 0;
  while ((m = TOKEN.exec(text)) !== null) {
    if (m[0] === '') { TOKEN.lastIndex++; continue; }
    if (m.index > last) out.push({ text: text.slice(last, m.index), cls: '' });
    let cls = '';
    if (m[1]) cls = 'tok-com';
    else if (m[2]) cls = 'tok-str';
    else if (m[3]) cls = 'tok-id';
    else if (m[4] || m[6]) cls = 'tok-num';
    else if (m[5]) {
      if (KEYWORDS.has(m[5].toLowerCase())) cls = 'tok-kw';
      else if (/^\s*\(/.test(text.slice(m.index + m[0].length))) cls = 'tok-fn';
    }
    out.push({ text: m[0], cls });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), cls: '' });
  return out;
}

// The UTF-16 index of a 1-based line/column (columns count Unicode characters, as the
// server's positions do), or -1.
export function indexOfPosition(text, line, column) {
  let i = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', i);
    if (nl < 0) return -1;
    i = nl + 1;
  }
  for (let c = 1; c < column && i < text.length && text[i] !== '\n'; c++)
    i += text.codePointAt(i) > 0xffff ? 2 : 1;
  return i;
}

// opts: value, onRun(text), label (accessible name), placeholder, rows (minimum lines),
// complete(ctx) -> [{label, detail, kind, insert?}] (optional: autocompletion; insert is the
// text to put in, by default the label, double-quoted for a table/column name that needs it).
// Returns {el, textarea, getValue(), setValue(text), focus(), markError(pos|null)}.
export function createEditor(opts = {}) {
  const el = document.createElement('div');
  el.className = 'editor';
  const pre = document.createElement('pre');
  pre.setAttribute('aria-hidden', 'true');
  const ta = document.createElement('textarea');
  ta.spellcheck = false;
  ta.autocapitalize = 'off';
  ta.setAttribute('autocomplete', 'off');
  ta.setAttribute('aria-label', opts.label || 'SQL');
  ta.rows = opts.rows || 5;
  if (opts.placeholder) ta.placeholder = opts.placeholder;
  ta.value = opts.value || '';
  el.append(pre, ta);
  let errorAt = -1;

  function paint() {
    const text = ta.value;
    const frag = document.createDocumentFragment();
    let pos = 0;
    for (const t of tokenize(text)) {
      const end = pos + t.text.length;
      const span = document.createElement('span');
      if (t.cls) span.className = t.cls;
      if (errorAt >= pos && errorAt < end) span.classList.add('tok-err');
      span.textContent = t.text;
      frag.append(span);
      pos = end;
    }
    if (errorAt >= text.length && errorAt >= 0) {
      // The spot is the end of the text ("syntax error at end of input"): mark a blank.
      const span = document.createElement('span');
      span.className = 'tok-err';
      span.textContent = ' ';
      frag.append(span);
    }
    // A final newline needs a character after it, or the <pre> is one line shorter.
    frag.append('\n');
    pre.replaceChildren(frag);
    ta.style.height = 'auto';
    ta.style.height = ta.scrollHeight + 'px';
  }

  ta.addEventListener('input', () => { errorAt = -1; paint(); });
  // Registered before the Ctrl+Enter handler, so an open list sees its keys first.
  const completion = opts.complete ? attachCompletion(el, ta, opts.complete) : null;
  ta.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      if (opts.onRun) opts.onRun(ta.value);
    }
  });
  // A narrower box wraps lines differently, so the height must follow the width; changes of
  // height alone (ours) are ignored, which keeps the observer from feeding itself.
  let width = 0;
  new ResizeObserver((entries) => {
    const w = entries[0].contentRect.width;
    if (w !== width) { width = w; paint(); }
  }).observe(el);

  paint();
  return {
    el,
    textarea: ta,
    getValue: () => ta.value,
    setValue(text) { if (completion) completion.close(); ta.value = text; errorAt = -1; paint(); },
    focus() { ta.focus(); },
    markError(p) {
      errorAt = p ? indexOfPosition(ta.value, p.line, p.column) : -1;
      paint();
    },
  };
}

// ---- autocompletion ----------------------------------------------------------------------
// A listbox under the caret, driven by complete(ctx), ctx = {prefix, qualifier, text, cursor}:
// prefix is the identifier typed before the cursor, qualifier the name before a "." ("tbl."
// or "tbl.ti"), else null. The textarea becomes an ARIA combobox (aria-expanded is not
// allowed on a plain textbox) whose aria-activedescendant names the highlighted option.
// The list opens on typing a name character or ".", or on Ctrl+Space; while it is open,
// Up/Down move, Enter/Tab accept (Enter on an option identical to the typed word is just a
// new line), Escape closes; when it is closed, no key behaves any
// differently (Tab still leaves the editor, Enter still starts a new line). Pasting (a
// multi-character insert) does not open it.

const MAX_ITEMS = 12;
const WORD_CHAR = /[A-Za-z0-9_$]/;
let listIds = 0;

// A name as SQL needs it: plain identifiers as they are, the rest double-quoted.
function quoteName(name) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name.toLowerCase())
    ? name : '"' + name.replaceAll('"', '""') + '"';
}

// True when index i (the cursor) is inside a string literal, comment or quoted identifier.
function insideLiteral(text, i) {
  let pos = 0;
  for (const t of tokenize(text)) {
    const end = pos + t.text.length;
    if (i > pos && i <= end && (t.cls === 'tok-str' || t.cls === 'tok-com' || t.cls === 'tok-id')) {
      if (i < end) return true;
      // At the end of the token: inside unless the token is closed there.
      const s = t.text;
      if (t.cls === 'tok-com') return s.startsWith('--') || !(s.length >= 4 && s.endsWith('*/'));
      return !(s.length >= 2 && s.endsWith(s[0]));
    }
    if (pos >= i) break;
    pos = end;
  }
  return false;
}

// The completion context at the cursor, or null where nothing should be offered.
function contextAt(text, cursor) {
  if (insideLiteral(text, cursor)) return null;
  const before = text.slice(0, cursor);
  const prefix = /[A-Za-z0-9_$]*$/.exec(before)[0];
  if (prefix && !/^[A-Za-z_]/.test(prefix)) return null;   // a number, a $1 parameter
  const start = cursor - prefix.length;
  if (start > 0 && before[start - 1] === '$') return null;
  let qualifier = null;
  const q = /("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\.$/.exec(before.slice(0, start));
  if (q) qualifier = q[1].startsWith('"') ? q[1].slice(1, -1).replaceAll('""', '"') : q[1];
  else if (before[start - 1] === '.') return null;          // "1." or "x)." : not a name
  return { prefix, qualifier, text, cursor };
}

// Case-insensitive prefix matches first, then substring matches, each in the completer's order.
function rank(items, prefix) {
  const p = prefix.toLowerCase();
  if (!p) return items.slice(0, MAX_ITEMS);
  const starts = [], contains = [];
  for (const it of items) {
    const l = String(it.label).toLowerCase();
    if (l.startsWith(p)) starts.push(it);
    else if (l.includes(p)) contains.push(it);
  }
  return starts.concat(contains).slice(0, MAX_ITEMS);
}

// The caret's position (top/left of the character at index i) in the textarea's own
// coordinates, by laying the text out again in a hidden div styled like the textarea.
function caretPosition(ta, i) {
  const cs = getComputedStyle(ta);
  const mirror = document.createElement('div');
  for (const p of ['boxSizing', 'width', 'paddingTop', 'paddingRight', 'paddingBottom', 'paddingLeft',
    'borderTopWidth', 'borderRightWidth', 'borderBottomWidth', 'borderLeftWidth', 'borderStyle',
    'fontFamily', 'fontSize', 'fontWeight', 'fontStyle', 'lineHeight', 'letterSpacing', 'wordSpacing',
    'tabSize', 'textIndent', 'textTransform', 'whiteSpace', 'overflowWrap', 'wordBreak']) mirror.style[p] = cs[p];
  mirror.style.position = 'absolute';
  mirror.style.visibility = 'hidden';
  mirror.style.top = '0';
  mirror.style.left = '0';
  mirror.style.height = 'auto';
  mirror.style.overflow = 'hidden';
  mirror.setAttribute('aria-hidden', 'true');
  mirror.textContent = ta.value.slice(0, i);
  const mark = document.createElement('span');
  mark.textContent = ta.value.slice(i) || '.';   // the rest, so the last line wraps the same
  mirror.append(mark);
  ta.parentNode.append(mirror);
  const pos = { top: mark.offsetTop - ta.scrollTop, left: mark.offsetLeft - ta.scrollLeft,
                line: parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.5 };
  mirror.remove();
  return pos;
}

function attachCompletion(box, ta, complete) {
  const id = `editor-ac-${++listIds}`;
  const list = document.createElement('ul');
  list.id = id;
  list.className = 'editor-ac hidden';
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', 'Completions');
  box.append(list);
  ta.setAttribute('role', 'combobox');
  ta.setAttribute('aria-autocomplete', 'list');
  ta.setAttribute('aria-controls', id);
  ta.setAttribute('aria-expanded', 'false');

  let items = [];       // shown, ranked
  let active = 0;
  let open = false;
  let explicit = false; // opened with Ctrl+Space: stays open with an empty prefix
  let at = null;        // the ctx the list was made for
  let accepting = false;

  function close() {
    if (!open) return;
    open = false;
    list.classList.add('hidden');
    list.replaceChildren();
    ta.setAttribute('aria-expanded', 'false');
    ta.removeAttribute('aria-activedescendant');
    window.removeEventListener('resize', close);
  }

  // (Re)builds the list for the cursor's context; closes it when nothing fits.
  function update() {
    const cursor = ta.selectionStart;
    const ctx = ta.selectionStart === ta.selectionEnd ? contextAt(ta.value, cursor) : null;
    if (!ctx || (!ctx.prefix && ctx.qualifier == null && !explicit)) { close(); return; }
    let found;
    try { found = complete(ctx) || []; } catch { found = []; }   // a broken completer is just silent
    const ranked = rank(found, ctx.prefix);
    const only = ranked.length === 1 ? ranked[0] : null;
    if (!ranked.length || (only && !explicit && insertOf(only).toLowerCase() === ctx.prefix.toLowerCase())) { close(); return; }
    at = ctx;
    items = ranked;
    active = 0;
    list.replaceChildren(...items.map((it, i) => {
      const li = document.createElement('li');
      li.id = `${id}-${i}`;
      li.setAttribute('role', 'option');
      li.className = `editor-ac-item editor-ac-${it.kind || 'other'}`;
      const kind = document.createElement('span');
      kind.className = 'editor-ac-kind';
      kind.setAttribute('aria-hidden', 'true');
      kind.textContent = (it.kind || '?')[0].toUpperCase();
      const label = document.createElement('span');
      label.className = 'editor-ac-label';
      label.textContent = it.label;
      li.append(kind, label);
      if (it.detail) {
        const detail = document.createElement('span');
        detail.className = 'editor-ac-detail';
        detail.textContent = ' ' + it.detail;   // the space keeps the accessible name readable
        li.append(detail);
      }
      // mousedown, not click: the textarea keeps the focus (a blur would close the list).
      li.addEventListener('mousedown', (ev) => { ev.preventDefault(); active = i; accept(); });
      return li;
    }));
    if (!open) window.addEventListener('resize', close);   // placed for this layout only
    open = true;
    list.classList.remove('hidden');
    ta.setAttribute('aria-expanded', 'true');
    highlight();
    place(ctx.cursor - ctx.prefix.length);
  }

  function highlight() {
    items.forEach((_, i) => list.children[i].setAttribute('aria-selected', String(i === active)));
    const li = list.children[active];
    ta.setAttribute('aria-activedescendant', li.id);
    // Keep the highlighted option visible inside the list (not by scrolling the page).
    if (li.offsetTop < list.scrollTop) list.scrollTop = li.offsetTop;
    else if (li.offsetTop + li.offsetHeight > list.scrollTop + list.clientHeight)
      list.scrollTop = li.offsetTop + li.offsetHeight - list.clientHeight;
  }

  // Under the start of the word, kept inside the editor's width and the window's height
  // (above the line when there is more room there).
  function place(index) {
    const c = caretPosition(ta, index);
    list.style.maxHeight = '';
    list.style.maxWidth = Math.max(120, box.clientWidth - 8) + 'px';
    const w = list.offsetWidth;
    const left = Math.max(0, Math.min(ta.offsetLeft + c.left, box.clientWidth - w));
    const vw = document.documentElement.clientWidth || window.innerWidth;
    const boxRect = box.getBoundingClientRect();
    const shift = Math.min(0, vw - 4 - (boxRect.left + box.clientLeft + left + w));   // never past the window
    list.style.left = Math.max(0, left + shift) + 'px';
    const lineTop = ta.offsetTop + c.top;                  // in the box's coordinates
    const viewTop = boxRect.top + box.clientTop + lineTop; // in the window's
    const below = window.innerHeight - (viewTop + c.line) - 6;
    const above = viewTop - 6;
    const natural = list.scrollHeight;
    if (natural > below && above > below) {
      const hgt = Math.min(natural, above);
      list.style.maxHeight = hgt + 'px';
      list.style.top = (lineTop - list.offsetHeight) + 'px';
    } else {
      if (natural > below) list.style.maxHeight = Math.max(60, below) + 'px';
      list.style.top = (lineTop + c.line) + 'px';
    }
  }

  function insertOf(it) {
    if (it.insert != null) return String(it.insert);
    return it.kind === 'table' || it.kind === 'column' ? quoteName(String(it.label)) : String(it.label);
  }

  // Replaces the typed prefix with the option, as an edit the browser's undo knows about.
  function accept() {
    const it = items[active];
    const ctx = at;
    close();
    if (!it || !ctx) return;
    const text = insertOf(it);
    const start = ctx.cursor - ctx.prefix.length;
    accepting = true;
    try {
      ta.focus();
      ta.setSelectionRange(start, ctx.cursor);
      let done = false;
      try { done = document.execCommand('insertText', false, text); } catch { done = false; }
      if (!done || ta.value.slice(start, start + text.length) !== text) {
        ta.setRangeText(text, start, ctx.cursor, 'end');
        ta.dispatchEvent(new Event('input', { bubbles: true }));
      }
    } finally {
      accepting = false;
    }
  }

  ta.addEventListener('input', (ev) => {
    if (accepting) return;
    const typed = ev.inputType === 'insertText' && typeof ev.data === 'string' && ev.data.length === 1;
    if (open) {
      // A character that cannot be part of a name ends it (and a Ctrl+Space list).
      if (typed && !WORD_CHAR.test(ev.data) && ev.data !== '.') { explicit = false; close(); return; }
      if (ev.inputType && !ev.inputType.startsWith('delete') && !typed) { explicit = false; close(); return; }
      update();
    } else if (typed && (WORD_CHAR.test(ev.data) || ev.data === '.')) {
      explicit = false;
      update();
    }
  });

  ta.addEventListener('keydown', (ev) => {
    if (ev.isComposing) return;
    if (ev.key === ' ' && ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault();
      explicit = true;
      update();
      if (!open) explicit = false;
      return;
    }
    if (!open) return;
    const plain = !ev.ctrlKey && !ev.metaKey && !ev.altKey && !ev.shiftKey;
    switch (ev.key) {
    case 'ArrowDown':
    case 'ArrowUp':
      if (!plain) { close(); return; }
      ev.preventDefault();
      active = (active + (ev.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
      highlight();
      return;
    case 'Enter':
    case 'Tab':
      if (!plain) { close(); return; }   // Ctrl+Enter runs, Shift+Tab leaves
      // Enter on exactly what is typed ("ORDER BY n" with the alias n) would change
      // nothing: it stays a new line.
      if (ev.key === 'Enter' && at && insertOf(items[active]) === at.prefix) { explicit = false; close(); return; }
      ev.preventDefault();
      accept();
      return;
    case 'Escape':
      ev.preventDefault();
      ev.stopPropagation();
      explicit = false;
      close();
      return;
    case 'ArrowLeft': case 'ArrowRight': case 'Home': case 'End': case 'PageUp': case 'PageDown':
      close();
      return;
    default:
      if (ev.ctrlKey || ev.metaKey) close();   // shortcuts (select all, undo, ...) end the list
    }
  });
  ta.addEventListener('blur', () => { explicit = false; close(); });
  ta.addEventListener('mousedown', () => { explicit = false; close(); });
  return { close };
}
