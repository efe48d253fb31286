// Small DOM helpers every view uses: element building, the error and loading panels,
// badges, formatters and a file download. No framework: views build their DOM with h() and
// replace it when their data changes.

// h('button', {class: 'primary', onclick: fn, 'aria-label': 'Run'}, 'Run', child, ...)
// Props: class, text, html is not supported (no innerHTML anywhere: text is never markup);
// on* functions become listeners; dataset: {...}; other keys become attributes (false/null
// skip them, true sets them empty). Children: nodes, strings, numbers, arrays, null.
export function h(tag, props, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' && 'checked' in el) el.checked = !!v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replaces el's children.
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// The panel a failed call leaves instead of a blank: what failed, the server's message,
// and the request id to find it in the log. err: an ApiError or any Error.
export function errorBox(err, what) {
  const id = err && err.requestId;
  return h('div', { class: 'error-box', role: 'alert' },
    h('strong', {}, what ? `${what} failed` : 'Something failed'),
    err && err.code && err.code !== 'error' ? h('code', { class: 'code' }, err.code) : null,
    h('p', { class: 'msg' }, (err && err.message) || String(err)),
    id ? h('p', { class: 'muted small' }, `request ${id}`) : null);
}

// The box a wide table scrolls in. It takes focus (tabindex 0) so keyboard users can scroll
// it too, and is a named region so a screen reader says what it holds.
export function scroller(label, extraClass, ...children) {
  return h('div', { class: ['table-scroll', extraClass], tabindex: 0, role: 'region', 'aria-label': label }, ...children);
}

export function loading(text = 'Loading…') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

export function empty(text) {
  return h('p', { class: 'empty muted' }, text);
}

export function badge(text, kind = '') {
  return h('span', { class: ['badge', kind && 'badge-' + kind] }, text);
}

export function sensitivityBadge(s) {
  if (!s) return null;
  const kind = { public: 'ok', internal: 'info', confidential: 'warn', restricted: 'bad' }[s] || '';
  return badge(s, kind);
}

export function freshnessBadge(f) {
  if (!f) return null;
  const kind = { fresh: 'ok', stale: 'bad', unknown: '' }[f.status] || '';
  const title = f.max_age_s ? `updated ${fmtAge(f.age_s)} ago, expected every ${fmtAge(f.max_age_s)}`
                            : `updated ${fmtAge(f.age_s)} ago`;
  return h('span', { class: ['badge', kind && 'badge-' + kind], title },
    f.status === 'unknown' ? `${fmtAge(f.age_s)} old` : `${f.status} · ${fmtAge(f.age_s)}`);
}

export function fmtNumber(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : String(n ?? '');
}

export function fmtBytes(n) {
  if (typeof n !== 'number') return '';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(n < 10 ? 1 : 0) : n} ${u[i]}`;
}

export function fmtAge(s) {
  if (typeof s !== 'number') return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${(s / 3600).toFixed(s < 36000 ? 1 : 0)}h`;
  return `${(s / 86400).toFixed(s < 864000 ? 1 : 0)}d`;
}

export function fmtMs(ms) {
  if (typeof ms !== 'number') return '';
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

// A cell value as text: null shows as NULL, objects and lists as JSON.
export function cellText(v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// Saves a Blob under a file name through a temporary link.
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, class: 'hidden' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// A short message in the corner. kind: '', 'ok', 'bad'.
export function toast(msg, kind = '') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: ['toast', kind && 'toast-' + kind], role: kind === 'bad' ? 'alert' : 'status' }, msg);
  box.append(t);
  setTimeout(() => t.remove(), 5000);
}

// Runs fn every ms while the element is in the document; returns a stop function. fn may be
// async; a slow call never overlaps the next.
export function poll(fn, ms) {
  let stopped = false, timer = null;
  const tick = async () => {
    if (stopped) return;
    try { await fn(); } finally { if (!stopped) timer = setTimeout(tick, ms); }
  };
  timer = setTimeout(tick, ms);
  return () => { stopped = true; clearTimeout(timer); };
}
