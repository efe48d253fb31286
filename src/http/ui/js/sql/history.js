// The SQL view's history: the last 50 distinct queries run, newest first, kept in
// localStorage so they survive a reload. Storage can be missing or full (private windows,
// quotas); then the history simply lives for this page only, never an error.
import { h, mount, empty, fmtAge, fmtNumber, fmtMs } from '../dom.js';

const KEY = 'lh.sql.history';
const MAX = 50;
let memory = [];   // used when localStorage refuses

export function loadHistory() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || '[]');
    if (Array.isArray(v)) return v.filter((e) => e && typeof e.sql === 'string');
  } catch { /* unreadable or unavailable: fall back below */ }
  return memory.slice();
}

function save(list) {
  memory = list.slice();
  try { localStorage.setItem(KEY, JSON.stringify(list)); } catch { /* kept in memory */ }
}

// Records one run: {sql, at (ISO time), rows (count or null), ms (or null), error (code)}.
// A query run again moves to the top instead of appearing twice.
export function addHistory(entry) {
  const key = entry.sql.trim();
  const list = loadHistory().filter((e) => e.sql.trim() !== key);
  list.unshift({ ...entry, sql: key });
  save(list.slice(0, MAX));
}

export function clearHistory() {
  save([]);
}

function summary(sql) {
  const one = sql.replace(/\s+/g, ' ').trim();
  return one.length > 140 ? one.slice(0, 140) + '…' : one;
}

function meta(e) {
  const parts = [];
  const t = Date.parse(e.at);
  if (!isNaN(t)) parts.push(`${fmtAge(Math.max(0, (Date.now() - t) / 1000))} ago`);
  if (e.error) parts.push(`failed (${e.error})`);
  else if (typeof e.rows === 'number') parts.push(`${fmtNumber(e.rows)} ${e.rows === 1 ? 'row' : 'rows'}`);
  if (typeof e.ms === 'number') parts.push(fmtMs(e.ms));
  return parts.join(' · ');
}

// The history panel. onPick(sql) loads an entry into the editor. Returns {el, refresh()}.
export function historyPanel(onPick) {
  const list = h('ol', { class: 'sql-history', 'aria-label': 'Query history' });
  const clear = h('button', { type: 'button', class: 'small', onclick: () => { clearHistory(); refresh(); } },
    'Clear history');
  const el = h('section', { class: 'panel sql-side-panel', 'aria-labelledby': 'sql-history-h' },
    h('div', { class: 'sql-side-head' }, h('h2', { id: 'sql-history-h' }, 'History'), clear),
    list);

  function refresh() {
    const items = loadHistory();
    clear.disabled = items.length === 0;
    if (!items.length) { mount(list, h('li', {}, empty('Queries you run appear here.'))); return; }
    mount(list, items.map((e) => h('li', {},
      h('button', { type: 'button', class: 'sql-history-item', title: e.sql, onclick: () => onPick(e.sql) },
        h('code', { class: 'sql-history-sql' }, summary(e.sql)),
        h('span', { class: ['sql-history-meta', 'small', 'muted', e.error && 'is-error'] }, meta(e))))));
  }

  refresh();
  return { el, refresh };
}
