// The Profile tab: POST /ai/summarize/<name> profiles the dataset (rows; per column nulls,
// approximate distinct count, min, max, top values) and, when a generation model is
// configured, adds a paragraph about it. Runs when the tab first opens and again on
// "Profile". Sensitive columns come back without values; we say so instead of a blank.
import { api } from '../api.js';
import { h, mount, errorBox, loading, empty, badge, fmtNumber, fmtMs, scroller } from '../dom.js';
import { isAbort } from './common.js';

export function profilePanel(panel, name, signal) {
  const out = h('div', { class: 'profile-out' });
  const btn = h('button', { type: 'button', class: 'primary', onclick: () => run() }, 'Profile');
  mount(panel,
    h('div', { class: 'toolbar' }, h('h2', {}, 'Profile'), btn,
      h('span', { class: 'muted small' }, 'counts, ranges and top values of every column')),
    out);

  async function run() {
    btn.disabled = true;
    mount(out, loading(`Profiling ${name}…`));
    try {
      const p = await api(`/ai/summarize/${encodeURIComponent(name)}`, { method: 'POST', signal });
      mount(out, result(p));
    } catch (e) {
      if (!isAbort(e)) mount(out, errorBox(e, 'Profiling the dataset'));
    } finally {
      btn.disabled = false;
    }
  }
  run();
}

function result(p) {
  const cols = p.columns || [];
  const t = p.timings || {};
  return h('div', {},
    p.summary ? h('div', { class: 'summary' },
      h('p', { class: 'summary-text' }, p.summary),
      p.model ? h('p', { class: 'muted small' }, `written by ${p.model}${t.summary_ms ? ` in ${fmtMs(t.summary_ms)}` : ''}`) : null)
      : p.note ? h('p', { class: 'muted small note' }, p.note) : null,
    h('p', { class: 'profile-rows' }, h('strong', {}, fmtNumber(p.rows)), ' rows',
      t.profile_ms !== undefined ? h('span', { class: 'muted small' }, ` · profiled in ${fmtMs(t.profile_ms)}`) : null),
    cols.length ? scroller(`Profile of ${p.dataset}`, null,
      h('table', { class: 'data profile', 'aria-label': `Profile of ${p.dataset}` },
        h('thead', {}, h('tr', {}, ['Column', 'Type', 'Nulls', 'Distinct', 'Min', 'Max', 'Top values']
          .map((x) => h('th', { scope: 'col', class: 'plain' }, x)))),
        h('tbody', {}, cols.map((c) => h('tr', { dataset: { column: c.name } },
          h('td', { class: 'mono' }, c.name, c.sensitive ? [' ', badge('sensitive', 'bad')] : null),
          h('td', { class: 'mono muted' }, c.type),
          h('td', { class: 'num nulls', title: `${fmtNumber(c.nulls)} null values` },
            typeof c.null_fraction === 'number' ? `${(c.null_fraction * 100).toFixed(c.null_fraction && c.null_fraction < 0.01 ? 2 : 0)}%` : ''),
          h('td', { class: 'num distinct', title: 'approximate' }, fmtNumber(c.distinct)),
          h('td', { class: 'minmax' }, valueOrHidden(c, c.min)),
          h('td', { class: 'minmax' }, valueOrHidden(c, c.max)),
          h('td', { class: 'topcell wrap' }, topValues(c, p.rows)))))))
      : empty('No columns.'));
}

function valueOrHidden(c, v) {
  if (c.sensitive) return h('span', { class: 'muted small' }, 'hidden');
  return v === null || v === undefined ? h('span', { class: 'muted' }, '—') : String(v);
}

// Top values as small bars, scaled to the most frequent one; the count in words beside.
function topValues(c, rows) {
  if (c.sensitive) return h('span', { class: 'muted small' }, 'hidden (sensitive)');
  const tv = c.top_values || [];
  if (!tv.length) return h('span', { class: 'muted' }, '—');
  const maxCount = Math.max(...tv.map((x) => x.count || 0), 1);
  return h('ul', { class: 'topvals' }, tv.map((x) => {
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    bar.style.width = `${Math.max(2, Math.round(((x.count || 0) / maxCount) * 100))}%`;
    const share = rows ? ` (${((x.count / rows) * 100).toFixed(x.count / rows < 0.01 ? 1 : 0)}%)` : '';
    return h('li', { title: `${x.value ?? 'NULL'}: ${fmtNumber(x.count)}${share}` },
      h('span', { class: 'tv-value' }, x.value === null ? 'NULL' : String(x.value)),
      h('span', { class: 'tv-bar' }, bar),
      h('span', { class: 'tv-count muted' }, fmtNumber(x.count)));
  }));
}
