// Search: pick a vector index, type text, see the ranked hits (POST /vectors/search) with
// their scores, snippets with the query's words marked, and a link to each hit's source
// row in Explore. The index, text and k live in the hash (#/search?index=&q=&k=) so a
// search can be linked; a search in the hash runs on arrival.
import { api } from '../api.js';
import { h, mount, errorBox, loading, empty, badge, fmtNumber, fmtMs } from '../dom.js';
import { link } from '../app.js';

const DEFAULT_K = 10;

function stateOf(ix) {
  return ix.status === 'corrupt' ? 'corrupt' : ix.state || ix.status || 'unknown';
}

// The words of a query worth marking in a snippet (letters and digits, 2+ characters).
export function queryWords(q) {
  const words = (String(q).toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) || []);
  return [...new Set(words)].sort((a, b) => b.length - a.length);
}

// The snippet as text nodes and <mark>s around the query's words (case-insensitive).
export function highlight(text, words) {
  if (!words.length) return [text];
  const re = new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'giu');
  const out = [];
  let last = 0, m;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('mark', {}, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export async function render(root, route) {
  const ctl = new AbortController();
  let runId = 0;
  const q0 = route.query.get('q') || '';
  const k0 = Number(route.query.get('k')) || DEFAULT_K;

  const results = h('section', { class: 'search-results', 'aria-label': 'Search results' });
  const formBox = h('div', { class: 'panel' }, loading('Loading the indexes…'));
  mount(root, h('h1', {}, 'Search'), formBox, results);

  let indexes;
  try {
    indexes = (await api('/vectors/indexes', { signal: ctl.signal })).indexes || [];
  } catch (err) {
    if (!err.aborted) mount(formBox, errorBox(err, 'Listing the vector indexes'));
    return () => ctl.abort();
  }
  if (!indexes.length) {
    mount(formBox, h('h2', {}, 'No vector index yet'),
      h('p', {}, 'An index is built over a text column of a dataset (POST /vectors/index); the Ingest page lists running builds.'),
      h('a', { href: link('ingest') }, 'Go to Ingest'));
    return () => ctl.abort();
  }

  const wanted = route.query.get('index');
  const initial = indexes.find((ix) => ix.name === wanted) || indexes.find((ix) => stateOf(ix) === 'ready') || indexes[0];

  const select = h('select', { id: 'search-index', onchange: () => describe() },
    indexes.map((ix) => h('option', { value: ix.name, selected: ix === initial },
      `${ix.name}${stateOf(ix) === 'ready' ? '' : ` (${stateOf(ix)})`}`)));
  const about = h('p', { class: 'search-about small', 'data-testid': 'index-about' });
  const input = h('input', { id: 'search-q', type: 'search', value: q0, autocomplete: 'off',
                             placeholder: 'e.g. senior python developer', 'aria-describedby': 'search-msg' });
  const kInput = h('input', { id: 'search-k', type: 'number', min: 1, max: 1000, step: 1, value: String(k0) });
  const msg = h('p', { id: 'search-msg', class: 'search-msg', role: 'status' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Search');

  // One line about the chosen index: its dataset, size, model, backend and state.
  function describe() {
    const ix = indexes.find((x) => x.name === select.value);
    if (!ix) return mount(about);
    const st = stateOf(ix);
    mount(about,
      badge(st, st === 'ready' ? 'ok' : st === 'corrupt' || st === 'failed' ? 'bad' : 'warn'), ' ',
      'over ', h('a', { href: link('explore', [ix.dataset]) }, ix.dataset),
      ix.text_column ? ` · ${ix.text_column}` : '',
      ` · ${fmtNumber(ix.rows)} rows, ${fmtNumber(ix.chunks)} chunks · model ${ix.model || ix.provider || '?'}`,
      ` · ${ix.backend || '?'} · ${ix.metric || ''}`);
  }
  describe();

  mount(formBox, h('form', { class: 'search-form', onsubmit: (ev) => { ev.preventDefault(); submit(); } },
    h('div', { class: 'search-fields' },
      h('label', { class: 'field search-index', for: 'search-index' }, 'Index', select),
      h('label', { class: 'field search-text', for: 'search-q' }, 'Search for', input),
      h('label', { class: 'field search-kfield', for: 'search-k' }, 'Hits (k)', kInput),
      h('div', { class: 'search-go' }, button)),
    about, msg));

  function submit() {
    const q = input.value.trim();
    const k = Math.round(Number(kInput.value));
    if (!q) {
      mount(msg, 'Type some words to search for.');
      msg.classList.add('search-msg-bad');
      input.focus();
      return;
    }
    if (!Number.isFinite(k) || k < 1 || k > 1000) {
      mount(msg, 'k must be a whole number from 1 to 1000.');
      msg.classList.add('search-msg-bad');
      kInput.focus();
      return;
    }
    mount(msg);
    msg.classList.remove('search-msg-bad');
    // Keeps the search in the hash without a navigation (nothing re-renders or runs twice).
    history.replaceState(null, '', link('search', [], { index: select.value, q, k: k === DEFAULT_K ? null : k }));
    run(select.value, q, k);
  }

  async function run(index, q, k) {
    const my = ++runId;
    const ix = indexes.find((x) => x.name === index) || {};
    button.disabled = true;
    mount(results, h('div', { class: 'panel' }, loading('Searching…')));
    try {
      const doc = await api('/vectors/search', { body: { index, query: q, k }, signal: ctl.signal });
      if (my === runId) show(doc, ix, q);
    } catch (err) {
      if (err.aborted || my !== runId) return;
      mount(results, h('div', { class: 'panel' }, errorBox(err, `Searching ${index}`)));
    } finally {
      if (my === runId) button.disabled = false;
    }
  }

  function show(doc, ix, q) {
    const hits = doc.hits || [];
    const head = h('p', { class: 'search-head muted small', role: 'status', 'data-testid': 'search-head' },
      `${fmtNumber(hits.length)} hit${hits.length === 1 ? '' : 's'} in ${doc.index} · ${fmtMs(doc.took_ms)} · backend ${doc.backend || '?'}`,
      doc.exact ? ' (exact)' : '');
    if (!hits.length) {
      mount(results, h('div', { class: 'panel' }, head, empty(`Nothing in ${doc.index} matches “${q}”.`)));
      return;
    }
    // The bar shows each score next to the best: higher is better, except for l2 distances.
    const lowerBetter = ix.metric === 'l2';
    const best = hits[0].score;
    const rel = (s) => {
      const r = lowerBetter ? (s > 0 ? best / s : 1) : (best > 0 ? s / best : 0);
      return Math.max(0, Math.min(1, r));
    };
    const words = queryWords(q);
    const list = h('ol', { class: 'search-hits' }, hits.map((hit) => {
      const bar = h('div', {});
      bar.style.width = `${(rel(hit.score) * 100).toFixed(1)}%`;
      const href = ix.dataset && ix.id_column ? link('explore', [ix.dataset], { key: ix.id_column, value: hit.doc_id }) : null;
      return h('li', { class: 'search-hit', 'data-doc': hit.doc_id },
        h('div', { class: 'search-hit-rank', 'aria-label': `rank ${hit.rank}` }, String(hit.rank)),
        h('div', { class: 'search-hit-body' },
          h('p', { class: 'search-snippet' }, highlight(hit.snippet || '', words)),
          h('div', { class: 'search-hit-meta small' },
            h('span', { class: 'search-score', title: `score ${hit.score}` },
              h('span', { class: 'mono' }, typeof hit.score === 'number' ? hit.score.toFixed(4) : String(hit.score)),
              h('span', { class: 'progress search-bar', 'aria-hidden': 'true' }, bar)),
            h('span', {}, 'doc ', h('span', { class: 'mono' }, String(hit.doc_id))),
            h('span', {}, `chunk ${hit.chunk_id}`),
            href ? h('a', { href, class: 'search-source' }, 'Source row') : null)));
    }));
    mount(results, h('div', { class: 'panel' }, head, list));
  }

  if (q0) {
    if (!route.query.get('index') || initial.name === wanted) run(initial.name, q0.trim(), Math.min(1000, Math.max(1, k0)));
    else mount(results, h('div', { class: 'panel' }, errorBox({ code: 'not_found', message: `index '${wanted}' not found` }, 'Searching')));
  } else {
    input.focus();
  }

  return () => ctl.abort();
}
