// System: how the server is doing. Health and models, the buckets with a real probe each,
// the hot query cache (pin and evict datasets), the bucket error journal and the background
// jobs. Every panel loads on its own, so one failing endpoint leaves an error in its panel
// and the others still show; all of them refresh every 5 s while the page is open.
import { api } from '../api.js';
import { link } from '../app.js';
import { h, mount, errorBox, loading, empty, badge, fmtNumber, fmtBytes, fmtMs, fmtTime, poll, scroller } from '../dom.js';
import { jobsList } from '../jobs.js';

const REFRESH_MS = 5000;

// 93784 -> "1d 2h 3m"; under a minute in seconds.
function fmtUptime(s) {
  if (typeof s !== 'number') return '';
  if (s < 60) return `${Math.floor(s)}s`;
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return [d && `${d}d`, (d || hr) && `${hr}h`, `${m}m`].filter(Boolean).join(' ');
}

function fmtEpochMs(ms) {
  return typeof ms === 'number' && ms > 0 ? new Date(ms).toLocaleString() : '';
}

function simpleTable(label, headers, rows) {
  return scroller(label, 'sys-table',
    h('table', { class: 'data', 'aria-label': label },
      h('thead', {}, h('tr', {}, headers.map(([t, num]) => h('th', { scope: 'col', class: num ? 'num' : null }, h('span', { class: 'th-plain' }, t))))),
      h('tbody', {}, rows)));
}

function td(content, cls) {
  return h('td', { class: cls || null }, content);
}

// A panel whose body is redrawn from load() on every refresh; the body is only replaced when
// the data changed (so a focused button in it keeps its focus between refreshes).
function panel(id, title, load, drawFn, extra = null) {
  const body = h('div', { class: 'sys-body' }, loading());
  const el = h('section', { class: 'panel sys-panel', id, 'aria-labelledby': id + '-h' },
    h('h2', { id: id + '-h' }, title), extra, body);
  let last = null;
  async function refresh() {
    try {
      const data = await load();
      const key = JSON.stringify(data);
      if (key === last) return;
      last = key;
      mount(body, drawFn(data));
    } catch (e) {
      last = null;
      mount(body, errorBox(e, `Loading ${title.toLowerCase()}`));
    }
  }
  return { el, body, refresh, invalidate() { last = null; } };
}

export async function render(root) {
  let alive = true;

  // ---- health ----
  const health = panel('sys-health', 'Health', () => api('/health'), (s) => {
    const m = s.models || {};
    const embed = m.embed ? [m.embed.provider, m.embed.model].filter(Boolean).join(' / ') : '';
    const gen = m.generate ? [m.generate.provider, m.generate.model].filter(Boolean).join(' / ') : null;
    return h('dl', { class: 'kv' },
      h('dt', {}, 'Status'), h('dd', { class: 'sys-status' }, badge(s.status, s.status === 'ok' ? 'ok' : 'bad')),
      h('dt', {}, 'Version'), h('dd', { class: 'sys-version' }, s.version),
      h('dt', {}, 'DuckDB'), h('dd', {}, s.duckdb_version),
      h('dt', {}, 'Uptime'), h('dd', { class: 'sys-uptime', title: `${s.uptime_s} s` }, fmtUptime(s.uptime_s)),
      h('dt', {}, 'Data dir'), h('dd', {}, h('code', {}, s.data_dir)),
      h('dt', {}, 'Datasets'), h('dd', {}, h('a', { href: link('explore') }, fmtNumber(s.datasets))),
      h('dt', {}, 'Embeddings'), h('dd', {}, embed || h('span', { class: 'muted' }, 'none configured')),
      h('dt', {}, 'Generation'), h('dd', { class: 'sys-gen' }, gen || h('span', { class: 'muted' }, 'none configured')));
  });

  // ---- buckets: the cheap list joined with a real probe ----
  // The probe writes a file in every bucket and journals each failure, so it runs on the
  // first load, on Refresh and every 30 s; the 5 s ticks reuse its last answer.
  let probe = null, probeAt = 0, forceProbe = true;
  const buckets = panel('sys-buckets', 'Buckets', async () => {
    const wantProbe = forceProbe || Date.now() - probeAt > 30000;
    forceProbe = false;
    const [list, pr] = await Promise.allSettled([api('/storage/buckets'),
      wantProbe ? api('/storage/bucket-health') : Promise.resolve(probe && probe.value)]);
    if (wantProbe) {
      probeAt = Date.now();
      probe = pr.status === 'fulfilled' ? { value: pr.value || [] }
                                        : { error: { code: pr.reason.code, message: pr.reason.message } };
    }
    if (list.status === 'rejected') throw list.reason;
    return { list: list.value || [], probe: probe.value || null, probeError: probe.error || null };
  }, ({ list, probe: pb, probeError }) => {
    if (!list.length) return empty('No buckets.');
    const byName = new Map((pb || []).map((p) => [p.name, p]));
    return [
      h('ul', { class: 'sys-buckets', 'aria-label': 'Buckets' }, list.map((b) => {
        const p = byName.get(b.name);
        const healthy = p ? p.healthy : b.healthy;
        return h('li', { class: ['sys-bucket', !healthy && 'is-bad'], dataset: { bucket: b.name } },
          h('div', { class: 'sys-bucket-head' },
            h('strong', { class: 'sys-bucket-name' }, b.name),
            badge(b.role, b.role === 'rescue' ? 'info' : ''),
            h('span', { class: 'sys-bucket-health' }, badge(healthy ? 'healthy' : 'unhealthy', healthy ? 'ok' : 'bad')),
            h('span', { class: 'sys-latency small muted', title: 'probe latency' },
              p && typeof p.latency_ms === 'number' ? `probe ${fmtMs(p.latency_ms)}` : 'not probed')),
          h('code', { class: 'sys-bucket-root' }, b.root),
          p && p.error ? h('p', { class: 'sys-err small' }, p.error) : null);
      })),
      probeError ? errorBox(probeError, 'Probing the buckets (the health shown is the cheap check)') : null,
    ];
  });

  // ---- cache ----
  const pinSel = h('select', { id: 'sys-pin-ds' }, h('option', { value: '' }, 'loading…'));
  const pinBtn = h('button', { type: 'submit', class: 'primary' }, 'Pin');
  const cacheMsg = h('div', { class: 'sys-cache-msg' });
  const pinForm = h('form', { class: 'toolbar sys-pin', 'aria-label': 'Pin a dataset in the cache' },
    h('label', { for: 'sys-pin-ds' }, 'Pin a dataset'), pinSel, pinBtn);
  const cache = panel('sys-cache', 'Query cache', () => api('/query/cache/stats'), (c) => {
    const pct = c.max_bytes ? Math.min(100, (c.bytes / c.max_bytes) * 100) : 0;
    const fill = h('div');
    fill.style.width = (c.bytes > 0 ? Math.max(pct, 0.5) : 0).toFixed(1) + '%'; // a sliver shows it is not empty
    const lookups = (c.hits || 0) + (c.misses || 0);
    const ratio = lookups ? `${((c.hits / lookups) * 100).toFixed(1)}%` : '—';
    const ds = c.datasets || [];
    return [
      h('dl', { class: 'kv sys-cache-kv' },
        h('dt', {}, 'Entries'), h('dd', { class: 'sys-entries' }, fmtNumber(c.entries)),
        h('dt', {}, 'Memory'), h('dd', {},
          h('div', { class: 'sys-mem' },
            h('span', {}, `${fmtBytes(c.bytes)} of ${fmtBytes(c.max_bytes)}`),
            h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'cache memory used',
                       'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct)) }, fill))),
        h('dt', {}, 'Hits / misses'), h('dd', {}, `${fmtNumber(c.hits)} / ${fmtNumber(c.misses)} (hit ratio ${ratio})`),
        h('dt', {}, 'Evictions'), h('dd', {}, fmtNumber(c.evictions)),
        h('dt', {}, 'Refreshes'), h('dd', {}, fmtNumber(c.refreshes))),
      ds.length
        ? simpleTable('Cached datasets', [['Dataset'], ['Loaded'], ['Version', true], ['Rows', true], ['Bytes', true],
                                          ['Hits', true], ['Load', true], ['Pinned'], ['Last used'], ['']],
          ds.map((d) => h('tr', { dataset: { dataset: d.dataset } },
            td(h('a', { href: link('explore', [d.dataset]) }, d.dataset)),
            td(badge(d.loaded ? 'loaded' : 'not loaded', d.loaded ? 'ok' : 'warn')),
            td(fmtNumber(d.version), 'num'), td(fmtNumber(d.rows), 'num'), td(fmtBytes(d.bytes), 'num'),
            td(fmtNumber(d.hits), 'num'), td(fmtMs(d.load_ms), 'num'),
            td(fmtEpochMs(d.pinned_ms)), td(fmtEpochMs(d.last_used_ms)),
            td(h('button', { type: 'button', class: 'danger sys-evict', 'aria-label': `Evict ${d.dataset} from the cache`,
                             onclick: (ev) => evict(d.dataset, ev.currentTarget) }, 'Evict')))))
        : empty('No datasets are pinned.'),
    ];
  }, [pinForm, cacheMsg]);

  async function evict(name, btn) {
    btn.disabled = true;
    try {
      const r = await api('/query/cache/evict', { body: { dataset: name } });
      if (!alive) return;
      mount(cacheMsg, h('p', { class: 'small', role: 'status' }, `Evicted ${name}: ${fmtBytes(r.bytes_freed)} freed.`));
    } catch (e) {
      if (alive) mount(cacheMsg, errorBox(e, `Evicting ${name}`));
    }
    btn.disabled = false;
    cache.invalidate();
    await cache.refresh();
  }

  pinForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = pinSel.value;
    if (!name) { mount(cacheMsg, errorBox({ message: 'choose a dataset to pin' }, 'Pinning')); return; }
    pinBtn.disabled = true;
    mount(cacheMsg, loading(`Pinning ${name}…`));
    try {
      const r = await api('/query/cache/pin', { body: { dataset: name } });
      if (!alive) return;
      mount(cacheMsg, h('p', { class: 'small', role: 'status' },
        r.already_pinned ? `${name} was already pinned.` : `Pinned ${name}: ${fmtNumber(r.rows)} rows, ${fmtBytes(r.bytes)} in ${fmtMs(r.load_ms)}.`));
    } catch (e) {
      if (alive) mount(cacheMsg, errorBox(e, `Pinning ${name}`));
    }
    pinBtn.disabled = false;
    await cache.refresh();
  });

  async function loadPinChoices() {
    try {
      const doc = await api('/catalog/datasets');
      if (!alive) return;
      const keep = pinSel.value;
      const list = (doc && doc.datasets) || [];
      mount(pinSel, h('option', { value: '' }, list.length ? 'choose…' : 'no datasets'),
        list.map((d) => h('option', { value: d.name }, d.name)));
      if (keep) pinSel.value = keep;
    } catch (e) {
      if (alive) mount(cacheMsg, errorBox(e, 'Loading the datasets to pin'));
    }
  }

  // ---- error journal ----
  const journal = panel('sys-errors', 'Bucket error journal', () => api('/storage/errors?limit=50'), (list) => {
    if (!list || !list.length) return empty('No bucket errors recorded.');
    return simpleTable('Bucket errors', [['Time'], ['Bucket'], ['Op'], ['Key'], ['Code'], ['Error']],
      list.map((e) => h('tr', {},
        td(fmtTime(e.time)), td(e.bucket), td(e.op), td(e.key === null ? h('span', { class: 'muted' }, '—') : h('code', {}, e.key)),
        td(h('code', {}, e.code)), td(e.error, 'sys-wrap'))));
  });

  // ---- jobs ----
  const jobs = jobsList({ interval: 0, emptyText: 'No background jobs yet.' });
  const jobsPanel = h('section', { class: 'panel sys-panel', id: 'sys-jobs', 'aria-labelledby': 'sys-jobs-h' },
    h('h2', { id: 'sys-jobs-h' }, 'Background jobs'), jobs.el);

  const refreshBtn = h('button', { type: 'button', class: 'sys-refresh' }, 'Refresh');
  const stamp = h('span', { class: 'small muted', 'aria-live': 'off' });
  mount(root,
    h('div', { class: 'sys-top' }, h('h1', {}, 'System'),
      h('div', { class: 'toolbar' }, stamp, refreshBtn)),
    h('div', { class: 'grid2' }, health.el, buckets.el),
    cache.el,
    journal.el,
    jobsPanel);

  async function refreshAll() {
    await Promise.all([health.refresh(), buckets.refresh(), cache.refresh(), journal.refresh(), jobs.refresh()]);
    if (alive) stamp.textContent = `updated ${new Date().toLocaleTimeString()}`;
  }
  refreshBtn.addEventListener('click', async () => {
    refreshBtn.disabled = true;
    forceProbe = true;
    loadPinChoices();
    await refreshAll();
    refreshBtn.disabled = false;
  });

  loadPinChoices();
  refreshAll();
  const stop = poll(refreshAll, REFRESH_MS);
  return () => { alive = false; stop(); jobs.stop(); };
}
