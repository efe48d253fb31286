// The shell: hash routing between the six views, the active tab, and the server status in
// the header. A view is a module in views/ exporting render(root, route), which fills root
// and may return a cleanup function (stop polling, abort requests) called when the user
// leaves. route = {view, path: [segments after the view], query: URLSearchParams}.
// Links are plain hashes: "#/explore/jobs", "#/sql?q=SELECT...", "#/search?index=resumes".
import { api } from './api.js';
import { h, mount, errorBox, loading, poll } from './dom.js';

const VIEWS = ['ask', 'explore', 'sql', 'search', 'ingest', 'system'];
const TITLES = { ask: 'Ask', explore: 'Explore', sql: 'SQL', search: 'Search', ingest: 'Ingest', system: 'System' };

let cleanup = null;
let generation = 0;

export function parseHash(hash) {
  const raw = (hash || '').replace(/^#\/?/, '');
  const qi = raw.indexOf('?');
  const pathPart = qi >= 0 ? raw.slice(0, qi) : raw;
  const query = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
  const segs = pathPart.split('/').filter(Boolean).map((s) => {
    try { return decodeURIComponent(s); } catch { return s; }
  });
  const view = VIEWS.includes(segs[0]) ? segs[0] : 'ask';
  return { view, path: segs.slice(1), query };
}

// Builds a hash link: link('explore', ['jobs']) -> "#/explore/jobs"; query: object.
export function link(view, path = [], query = null) {
  let s = '#/' + [view, ...path].map(encodeURIComponent).join('/');
  if (query) {
    const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
    if ([...q].length) s += '?' + q.toString();
  }
  return s;
}

async function route() {
  const my = ++generation;
  if (cleanup) {
    try { cleanup(); } catch (e) { console.warn('view cleanup failed', e); }
    cleanup = null;
  }
  const r = parseHash(location.hash);
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.view === r.view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${TITLES[r.view]} · Lakehouse`;
  const root = document.getElementById('view');
  mount(root, loading());
  let mod;
  try {
    mod = await import(`./views/${r.view}.js`);
  } catch (e) {
    if (my === generation) mount(root, errorBox({ message: `the ${TITLES[r.view]} view could not be loaded: ${e.message}` }, 'Loading the page'));
    return;
  }
  if (my !== generation) return;
  const page = h('div', { class: 'page', 'data-view': r.view });
  mount(root, page);
  try {
    const c = await mod.render(page, r);
    if (my === generation) cleanup = typeof c === 'function' ? c : null;
    else if (typeof c === 'function') c();
  } catch (e) {
    if (my === generation) mount(page, errorBox(e, TITLES[r.view]));
  }
}

async function refreshStatus() {
  const el = document.getElementById('status');
  try {
    const s = await api('/health');
    mount(el, h('span', { class: 'dot dot-ok', 'aria-hidden': 'true' }), `v${s.version}`);
    el.title = `server ${s.status}, up ${s.uptime_s}s, DuckDB ${s.duckdb_version}`;
  } catch (e) {
    mount(el, h('span', { class: 'dot dot-bad', 'aria-hidden': 'true' }), 'offline');
    el.title = e.message;
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', () => {
  if (!location.hash) history.replaceState(null, '', '#/ask');
  route();
  refreshStatus();
  poll(refreshStatus, 15000);
});
