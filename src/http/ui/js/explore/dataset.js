// The dataset page, #/explore/<name>: a header with what the catalog knows, then tabs for
// the schema, a data preview (with the "source row" a Search hit links to), the lineage
// history, the profile and the editable metadata. Tabs load on first opening, and the open
// tab is kept in the hash (?tab=) so a reload comes back to it.
import { api, sql, ident } from '../api.js';
import { h, mount, errorBox, loading, empty, badge, sensitivityBadge, freshnessBadge,
         fmtNumber, fmtTime, cellText, scroller } from '../dom.js';
import { dataTable } from '../table.js';
import { link } from '../app.js';
import { piiBadge, tagBadges, isAbort } from './common.js';
import { profilePanel } from './profile.js';
import { metadataForm } from './metadata.js';

const TABS = [['schema', 'Schema'], ['preview', 'Preview'], ['history', 'History'],
              ['profile', 'Profile'], ['metadata', 'Metadata']];

export async function renderDataset(root, route, signal) {
  const name = route.path[0];
  const back = h('p', { class: 'back' }, h('a', { href: link('explore') }, '← All datasets'));
  mount(root, back, loading(`Loading ${name}…`));
  let ds;
  try {
    ds = await api(`/catalog/datasets/by-name/${encodeURIComponent(name)}`, { signal });
  } catch (e) {
    if (isAbort(e)) return;
    mount(root, back, h('h1', {}, name), errorBox(e, `Loading dataset '${name}'`));
    return;
  }
  const key = route.query.get('key'), value = route.query.get('value');
  const source = key && value !== null ? { key, value } : null;
  const asked = route.query.get('tab');
  const tab = TABS.some(([id]) => id === asked) ? asked : source ? 'preview' : 'schema';
  show(root, ds, { tab, source, signal });
}

// Paints the page for ds; called again with the saved dataset after a metadata change.
function show(root, ds, { tab, source, signal }) {
  const name = ds.name;
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': `${name} sections` });
  const panels = {};
  const loaded = new Set();
  const buttons = TABS.map(([id, label]) => {
    const b = h('button', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': `panel-${id}`,
                            dataset: { tab: id }, onclick: () => select(id, true) }, label);
    b.addEventListener('keydown', (ev) => {
      const i = TABS.findIndex(([t]) => t === id);
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[ev.key];
      if (to === undefined) return;
      ev.preventDefault();
      const next = TABS[(to + TABS.length) % TABS.length][0];
      select(next, true);
      buttons.find((x) => x.dataset.tab === next).focus();
    });
    return b;
  });
  tablist.append(...buttons);
  for (const [id] of TABS)
    panels[id] = h('section', { class: 'panel tabpanel', role: 'tabpanel', id: `panel-${id}`,
                                'aria-labelledby': `tab-${id}`, tabindex: '0' });

  const loaders = {
    schema: (p) => mount(p, schemaTable(ds)),
    preview: (p) => preview(p, name, source, signal),
    history: (p) => mount(p, historyTable(ds)),
    profile: (p) => profilePanel(p, name, signal),
    metadata: (p) => mount(p, metadataForm(ds, {
      signal,
      onSaved: (saved) => show(root, saved, { tab: 'metadata', source, signal }),
    })),
  };

  function select(id, remember) {
    for (const b of buttons) {
      const on = b.dataset.tab === id;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
      panels[b.dataset.tab].hidden = !on;
    }
    if (!loaded.has(id)) { loaded.add(id); loaders[id](panels[id]); }
    if (remember) {
      const q = { tab: id === 'schema' ? null : id };
      if (source) Object.assign(q, source);
      history.replaceState(null, '', link('explore', [name], q));
    }
  }

  mount(root,
    h('p', { class: 'back' }, h('a', { href: link('explore') }, '← All datasets')),
    header(ds),
    tablist,
    TABS.map(([id]) => panels[id]));
  select(tab, false);
}

function header(ds) {
  const last = (ds.history || []).reduce((a, c) => (a && a.version > c.version ? a : c), null);
  return h('header', { class: 'panel ds-header' },
    h('div', { class: 'ds-head' },
      h('h1', { class: 'ds-title' }, ds.name),
      h('span', { class: 'badges' }, sensitivityBadge(ds.sensitivity), piiBadge(ds.columns), freshnessBadge(ds.freshness))),
    h('p', { class: ['ds-desc', !ds.description && 'muted'], 'data-testid': 'ds-description' }, ds.description || 'No description.'),
    tagBadges(ds.tags),
    h('dl', { class: 'ds-facts' },
      fact('rows', fmtNumber(ds.row_count)),
      fact('columns', fmtNumber((ds.columns || []).length)),
      fact('files', fmtNumber(ds.files)),
      fact('version', String(ds.version ?? '')),
      fact('bucket', ds.bucket || '—'),
      fact('owner', ds.owner || '—'),
      fact('source', (last && last.source) || ds.source || '—'),
      fact('updated', fmtTime(ds.updated_at))));
}

function fact(label, value) {
  return h('div', { class: 'ds-fact', dataset: { fact: label } }, h('dt', {}, label), h('dd', {}, value));
}

function schemaTable(ds) {
  const cols = ds.columns || [];
  if (!cols.length) return empty('This dataset has no columns.');
  return scroller(`Columns of ${ds.name}`, null,
    h('table', { class: 'data schema', 'aria-label': `Columns of ${ds.name}` },
      h('thead', {}, h('tr', {}, ['Column', 'Type', 'PII', 'Sensitive', 'Description'].map((t) => h('th', { scope: 'col', class: 'plain' }, t)))),
      h('tbody', {}, cols.map((c) => h('tr', { dataset: { column: c.name } },
        h('td', { class: 'mono' }, c.name),
        h('td', { class: 'mono muted' }, c.type),
        h('td', { class: 'pii' }, c.pii ? badge(c.pii, 'warn') : ''),
        h('td', { class: 'sensitive' }, c.sensitive ? badge('sensitive', 'bad') : h('span', { class: 'muted' }, 'no')),
        h('td', { class: 'desc wrap' }, c.description || ''))))));
}

async function preview(panel, name, source, signal) {
  const sqlText = `SELECT * FROM ${ident(name)} LIMIT 100`;
  const rowBox = source ? h('div', { class: 'source-row' }, loading('Finding the source row…')) : null;
  const tableBox = h('div', { class: 'preview-table' }, loading('Loading the first 100 rows…'));
  mount(panel,
    rowBox,
    h('div', { class: 'toolbar preview-tools' },
      h('h2', {}, 'First 100 rows'),
      h('a', { class: 'button', href: link('sql', [], { q: sqlText }) }, 'Open in SQL')),
    tableBox);
  if (source) sourceRow(rowBox, name, source, signal);
  try {
    const r = await sql(sqlText, { limit: 100, signal });
    mount(tableBox, dataTable(r.columns, r.rows, { pageSize: 100, label: `Preview of ${name}` }));
  } catch (e) {
    if (!isAbort(e)) mount(tableBox, errorBox(e, 'Loading the preview'));
  }
}

// The row a Search hit points at: key column compared as text, the value bound ($1).
async function sourceRow(box, name, { key, value }, signal) {
  const title = h('h2', {}, 'Source row ', h('span', { class: 'muted small' }, `${key} = ${value}`));
  try {
    const r = await sql(`SELECT * FROM ${ident(name)} WHERE CAST(${ident(key)} AS VARCHAR) = $1`,
                        { params: [value], limit: 10, signal });
    if (!r.rows.length) {
      mount(box, title, empty(`No row of ${name} has ${key} = ${value}: it may have been deleted or changed.`));
      return;
    }
    mount(box, title,
      r.rows.length > 1 ? h('p', { class: 'muted small' }, `${r.rows.length} rows match; the first is shown.`) : null,
      h('dl', { class: 'kv' }, r.columns.map((c, i) => [
        h('dt', {}, c.name),
        h('dd', { class: r.rows[0][i] === null ? 'muted' : null }, cellText(r.rows[0][i]))])));
  } catch (e) {
    if (!isAbort(e)) mount(box, title, errorBox(e, 'Finding the source row'));
  }
}

function historyTable(ds) {
  const hist = (ds.history || []).slice().sort((a, b) => b.version - a.version);
  if (!hist.length) return empty('No history recorded.');
  const cols = [
    'version', 'time', 'operation', 'source', 'file', 'actor', 'rows added', 'files added', 'content hash', 'job',
  ].map((n) => ({ name: n }));
  const rows = hist.map((e) => [e.version, e.timestamp, e.operation, e.source, e.file_name, e.actor,
                                e.rows_added, e.files_added, e.content_hash, e.job_id]);
  return h('div', {},
    h('h2', {}, 'Lineage ', h('span', { class: 'muted small' }, 'newest first')),
    dataTable(cols, rows, {
      pageSize: 50, label: `History of ${ds.name}`,
      cellRender: (v, r, c) => {
        if (c === 1) return h('time', { datetime: v || '' }, fmtTime(v));
        if (c === 8 && v) return h('code', { title: v, class: 'hash' }, v.slice(0, 12) + '…');
        return undefined;
      },
    }));
}
