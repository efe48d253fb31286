// The SQL editor: a plain <textarea> (so typing, undo, selection, IME and screen readers
// behave as everywhere) over a <pre> that shows the same text highlighted. The textarea's
// text is transparent and it grows with its content, so the two always line up and neither
// scrolls. Ctrl+Enter (Cmd+Enter) runs; Tab is left to move focus, so the page stays
// keyboard reachable. markError({line, column}) underlines the token the server's
// sql_error position points at, until the next edit.

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

// opts: value, onRun(text), label (accessible name), placeholder, rows (minimum lines).
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
    setValue(text) { ta.value = text; errorAt = -1; paint(); },
    focus() { ta.focus(); },
    markError(p) {
      errorAt = p ? indexOfPosition(ta.value, p.line, p.column) : -1;
      paint();
    },
  };
}
