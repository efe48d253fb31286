// The SQL view's table list: every dataset with its columns and types, from
// GET /catalog/datasets. Clicking a name inserts it at the editor's cursor, so nobody has to
// remember or retype column names; names that are not plain identifiers arrive quoted.
import { api, ident } from '../api.js';
import { h, mount, errorBox, loading, empty, fmtNumber } from '../dom.js';

// A name as it must be written in SQL: plain lowercase identifiers as they are, the rest
// double-quoted (mixed case, spaces, keywords would otherwise break or change the query).
const RESERVED = new Set(['select', 'from', 'where', 'group', 'order', 'by', 'limit', 'table',
  'user', 'case', 'end', 'default', 'to', 'as', 'in', 'is', 'on', 'and', 'or', 'not', 'all', 'desc', 'asc']);
export function sqlName(name) {
  return /^[a-z_][a-z0-9_]*$/.test(name) && !RESERVED.has(name) ? name : ident(name);
}

// opts: onInsert(text), signal, onLoad(datasets) (the list once loaded: the editor's
// completion uses it too). Returns the panel element; it loads itself.
export function tablesPanel({ onInsert, signal, onLoad }) {
  const body = h('div', { class: 'sql-tables-body' }, loading('Loading tables…'));
  const el = h('section', { class: 'panel sql-side-panel', 'aria-labelledby': 'sql-tables-h' },
    h('div', { class: 'sql-side-head' }, h('h2', { id: 'sql-tables-h' }, 'Tables'),
      h('span', { class: 'small muted' }, 'click a name to insert it')),
    body);

  function table(ds, i) {
    const cols = h('ul', { class: 'sql-cols hidden', id: `sql-cols-${i}` },
      (ds.columns || []).map((c) => h('li', {},
        h('button', { type: 'button', class: 'sql-ins sql-col', title: `Insert ${c.name}`,
                      onclick: () => onInsert(sqlName(c.name)) },
          h('span', { class: 'sql-col-name' }, c.name)),
        h('span', { class: 'sql-col-type small muted' }, c.type))));
    const toggle = h('button', { type: 'button', class: 'sql-toggle', 'aria-expanded': 'false',
      'aria-controls': cols.id, 'aria-label': `Columns of ${ds.name}`, title: 'Show the columns' }, '▸');
    toggle.addEventListener('click', () => {
      const open = cols.classList.toggle('hidden') === false;
      toggle.setAttribute('aria-expanded', String(open));
      toggle.textContent = open ? '▾' : '▸';
    });
    return h('li', { class: 'sql-table', dataset: { table: ds.name } },
      h('div', { class: 'sql-table-head' }, toggle,
        h('button', { type: 'button', class: 'sql-ins sql-table-name', title: `Insert ${ds.name}`,
                      onclick: () => onInsert(sqlName(ds.name)) }, ds.name),
        typeof ds.row_count === 'number'
          ? h('span', { class: 'small muted sql-table-rows' }, `${fmtNumber(ds.row_count)} rows`) : null),
      cols);
  }

  api('/catalog/datasets', { signal }).then((r) => {
    const list = (r && r.datasets) || [];
    if (onLoad) onLoad(list);
    if (!list.length) mount(body, empty('No datasets yet: ingest a file first.'));
    else mount(body, h('ul', { class: 'sql-tables', 'aria-label': 'Tables' }, list.map((ds, i) => table(ds, i))));
  }).catch((err) => {
    if (!err.aborted) mount(body, errorBox(err, 'Loading the tables'));
  });
  return el;
}
