// Explore: the dataset browser. #/explore lists the catalog's datasets as cards with a search
// box and a sort order, both kept in the hash (?q=, ?sort=) so a reload or a shared link
// shows the same list; #/explore/<name> is the dataset page (explore/dataset.js).
import { api } from '../api.js';
import { h, mount, errorBox, loading, empty, sensitivityBadge, freshnessBadge, fmtNumber, fmtTime } from '../dom.js';
import { link } from '../app.js';
import { piiBadge, tagBadges, isAbort } from '../explore/common.js';
import { renderDataset } from '../explore/dataset.js';

export async function render(root, route) {
  const ctl = new AbortController();
  if (route.path.length) renderDataset(root, route, ctl.signal);
  else renderList(root, route, ctl.signal);
  return () => ctl.abort();
}

const SORTS = {
  name: { label: 'Name', cmp: (a, b) => a.name.localeCompare(b.name) },
  rows: { label: 'Rows (most first)', cmp: (a, b) => (b.row_count || 0) - (a.row_count || 0) || a.name.localeCompare(b.name) },
  updated: { label: 'Updated (newest first)', cmp: (a, b) => String(b.updated_at || '').localeCompare(String(a.updated_at || '')) || a.name.localeCompare(b.name) },
};

// Everything a search term may match, lower-cased once per dataset.
function haystack(d) {
  return [d.name, d.description, d.owner, ...(d.tags || []), ...(d.columns || []).map((c) => c.name)]
    .filter(Boolean).join('\n').toLowerCase();
}

// Every whitespace-separated term must occur somewhere ("jobs salary" finds jobs).
function matches(d, terms) {
  return terms.every((t) => d._hay.includes(t));
}

async function renderList(root, route, signal) {
  mount(root, h('h1', {}, 'Explore'), loading('Loading datasets…'));
  let datasets;
  try {
    datasets = (await api('/catalog/datasets', { signal })).datasets || [];
  } catch (e) {
    if (!isAbort(e)) mount(root, h('h1', {}, 'Explore'), errorBox(e, 'Loading the datasets'));
    return;
  }
  for (const d of datasets) d._hay = haystack(d);

  if (!datasets.length) {
    mount(root, h('h1', {}, 'Explore'),
      h('div', { class: 'panel' },
        empty('There are no datasets yet.'),
        h('p', {}, h('a', { href: link('ingest') }, 'Ingest a file'), ' to create the first one.')));
    return;
  }

  let q = route.query.get('q') || '';
  let sort = SORTS[route.query.get('sort')] ? route.query.get('sort') : 'name';

  const search = h('input', { type: 'search', id: 'explore-q', value: q, placeholder: 'name, description, owner, tag or column',
                              autocomplete: 'off', 'aria-controls': 'explore-list' });
  const sortSel = h('select', { id: 'explore-sort' },
    Object.entries(SORTS).map(([k, s]) => h('option', { value: k, selected: k === sort }, s.label)));
  const count = h('p', { class: 'muted small count', role: 'status', 'data-testid': 'count' });
  const list = h('ul', { class: 'ds-list', id: 'explore-list', 'aria-label': 'Datasets' });

  // The hash keeps the filter without a hashchange (which would rebuild the view and
  // steal the focus from the search box).
  function keepInHash() {
    const target = link('explore', [], { q: q.trim(), sort: sort === 'name' ? null : sort });
    if (location.hash !== target) history.replaceState(null, '', target);
  }

  function draw() {
    const terms = q.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = datasets.filter((d) => matches(d, terms)).sort(SORTS[sort].cmp);
    count.textContent = `${shown.length} of ${datasets.length} dataset${datasets.length === 1 ? '' : 's'}`;
    if (!shown.length) {
      mount(list, h('li', { class: 'ds-empty' },
        empty(`No dataset matches “${q.trim()}”.`),
        h('button', { type: 'button', class: 'link', onclick: () => { q = ''; search.value = ''; keepInHash(); draw(); search.focus(); } },
          'Clear the search')));
      return;
    }
    mount(list, shown.map(card));
  }

  search.addEventListener('input', () => { q = search.value; keepInHash(); draw(); });
  sortSel.addEventListener('change', () => { sort = sortSel.value; keepInHash(); draw(); });

  mount(root,
    h('h1', {}, 'Explore'),
    h('div', { class: 'toolbar explore-tools' },
      h('label', { class: 'field grow', for: 'explore-q' }, 'Search datasets', search),
      h('label', { class: 'field', for: 'explore-sort' }, 'Sort by', sortSel)),
    count,
    list);
  draw();
}

function card(d) {
  const cols = (d.columns || []).length;
  return h('li', { class: 'ds-card panel', dataset: { name: d.name } },
    h('div', { class: 'ds-head' },
      h('h2', { class: 'ds-name' }, h('a', { href: link('explore', [d.name]) }, d.name)),
      h('span', { class: 'badges' }, sensitivityBadge(d.sensitivity), piiBadge(d.columns), freshnessBadge(d.freshness))),
    d.description ? h('p', { class: 'ds-desc' }, d.description) : h('p', { class: 'ds-desc muted' }, 'No description.'),
    h('dl', { class: 'ds-facts' },
      fact('rows', fmtNumber(d.row_count), 'rows'),
      fact('columns', fmtNumber(cols), 'columns'),
      fact('owner', d.owner || '—', 'owner'),
      fact('bucket', d.bucket || '—', 'bucket'),
      fact('updated', shortTime(d.updated_at), 'updated', fmtTime(d.updated_at))),
    tagBadges(d.tags));
}

function fact(label, value, key, title) {
  return h('div', { class: 'ds-fact', dataset: { fact: key } }, h('dt', {}, label), h('dd', { title }, value));
}

function shortTime(iso) {
  const d = new Date(iso);
  return iso && !isNaN(d) ? d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : fmtTime(iso);
}
