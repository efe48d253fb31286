// The result table every view shows rows with: columns [{name, type}], rows [[...]], paging
// and click-to-sort on the rows it holds (sorting is by value: numbers as numbers, NULLs
// last). Header buttons are keyboard reachable; aria-sort says the order.
import { h, mount, cellText, fmtNumber, empty } from './dom.js';

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/i;

export function isNumericType(t) {
  return NUMERIC.test(String(t || ''));
}

function compare(a, b) {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return cellText(a).localeCompare(cellText(b), undefined, { numeric: true });
}

// opts: pageSize (default 50), caption (text above), cellRender(value, rowIndex, colIndex,
// row) -> node|string|undefined to override a cell, label (aria-label of the table).
// Returns the element; el.setData(columns, rows) replaces the content.
export function dataTable(columns, rows, opts = {}) {
  const pageSize = opts.pageSize || 50;
  let sortCol = -1, sortDir = 1, page = 0;
  let view = rows;
  const wrap = h('div', { class: 'table-wrap' });
  const scroller = h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': opts.label || 'Result' });
  const pager = h('div', { class: 'pager' });
  wrap.append(scroller, pager);

  function sortBy(i) {
    if (sortCol === i) sortDir = -sortDir;
    else { sortCol = i; sortDir = 1; }
    view = rows.slice().sort((a, b) => sortDir * compare(a[i], b[i]));
    page = 0;
    draw();
  }

  function draw() {
    if (!columns.length) { mount(scroller, empty('No columns.')); mount(pager); return; }
    const pages = Math.max(1, Math.ceil(view.length / pageSize));
    if (page >= pages) page = pages - 1;
    const start = page * pageSize;
    const head = h('tr', {}, columns.map((c, i) => {
      const dir = sortCol === i ? (sortDir > 0 ? 'ascending' : 'descending') : 'none';
      return h('th', { scope: 'col', 'aria-sort': dir, class: isNumericType(c.type) ? 'num' : null },
        h('button', { class: 'th-sort', type: 'button', title: `Sort by ${c.name}`, onclick: () => sortBy(i) },
          h('span', { class: 'th-name' }, c.name),
          c.type ? h('span', { class: 'th-type' }, c.type) : null,
          h('span', { class: 'th-arrow', 'aria-hidden': 'true' }, dir === 'ascending' ? '▲' : dir === 'descending' ? '▼' : '')));
    }));
    const body = view.slice(start, start + pageSize).map((row, r) => h('tr', {}, columns.map((c, i) => {
      const v = row[i];
      const custom = opts.cellRender ? opts.cellRender(v, start + r, i, row) : undefined;
      const cls = [isNumericType(c.type) && 'num', (v === null || v === undefined) && 'null'];
      if (custom !== undefined) return h('td', { class: cls }, custom);
      const text = cellText(v);
      return h('td', { class: cls, title: text.length > 60 ? text : null }, text.length > 300 ? text.slice(0, 300) + '…' : text);
    })));
    mount(scroller, h('table', { class: 'data', 'aria-label': opts.label || 'Result' },
      h('thead', {}, head), h('tbody', {}, body)));
    if (!view.length) scroller.append(empty('No rows.'));
    mount(pager,
      h('span', { class: 'muted small', 'data-testid': 'row-range' },
        view.length ? `rows ${fmtNumber(start + 1)}–${fmtNumber(Math.min(start + pageSize, view.length))} of ${fmtNumber(view.length)}` : ''),
      pages > 1 ? h('span', { class: 'pager-buttons' },
        h('button', { type: 'button', disabled: page === 0, onclick: () => { page = 0; draw(); }, 'aria-label': 'First page' }, '«'),
        h('button', { type: 'button', disabled: page === 0, onclick: () => { page--; draw(); }, 'aria-label': 'Previous page' }, '‹'),
        h('span', { class: 'small' }, `page ${page + 1} of ${pages}`),
        h('button', { type: 'button', disabled: page >= pages - 1, onclick: () => { page++; draw(); }, 'aria-label': 'Next page' }, '›'),
        h('button', { type: 'button', disabled: page >= pages - 1, onclick: () => { page = pages - 1; draw(); }, 'aria-label': 'Last page' }, '»')) : null);
  }

  wrap.setData = (cols, rs) => { columns = cols; rows = rs; view = rs; sortCol = -1; page = 0; draw(); };
  draw();
  return wrap;
}
