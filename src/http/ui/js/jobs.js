// The list of background jobs (GET /vectors/jobs: the index builds) that Ingest and System
// both show: state, a progress bar with phase, rate and ETA, attempts, times, the error of a
// failed job, and Cancel for queued or running ones. Rows are keyed by job id and updated in
// place, so a poll every second neither flickers nor takes the keyboard focus off a button.
import { api } from './api.js';
import { link } from './app.js';
import { h, mount, errorBox, empty, loading, badge, fmtNumber, fmtAge, fmtMs, poll } from './dom.js';

const STATE_KIND = { queued: 'info', running: 'info', succeeded: 'ok', failed: 'bad', cancelled: 'warn' };
const ACTIVE = new Set(['queued', 'running']);

function fmtMillis(ms) {
  if (typeof ms !== 'number' || !ms) return '';
  const d = new Date(ms);
  return isNaN(d) ? '' : d.toLocaleString();
}

// The progress of a job as {pct|null, text}: pct is null when the total is not known yet.
function progressOf(job) {
  const p = job.progress || {};
  const total = typeof p.total === 'number' ? p.total : null;
  const done = typeof p.done === 'number' ? p.done : 0;
  let pct = total ? Math.min(100, Math.round((done / total) * 100)) : null;
  if (job.state === 'succeeded') pct = 100;
  const parts = [];
  if (total !== null) parts.push(`${fmtNumber(done)} / ${fmtNumber(total)}`);
  if (p.phase) parts.push(p.phase);
  if (ACTIVE.has(job.state)) {
    if (typeof p.rate_per_s === 'number' && p.rate_per_s > 0) parts.push(`${fmtNumber(Math.round(p.rate_per_s))}/s`);
    if (typeof p.eta_s === 'number' && job.state === 'running') parts.push(`ETA ${fmtAge(p.eta_s)}`);
  }
  if (typeof p.resumed_from === 'number') parts.push(`resumed from row ${fmtNumber(p.resumed_from)}`);
  if (p.skipped) parts.push(`${fmtNumber(p.skipped)} skipped`);
  return { pct, text: parts.join(' · ') };
}

// One row: built once, then update(job) rewrites its parts.
function jobRow(id, onCancel) {
  const title = h('span', { class: 'job-title' });
  const state = h('span', { class: 'badge job-state' });
  const fill = h('div');
  const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
                         'aria-label': 'progress of the job' }, fill);
  const ptext = h('span', { class: 'job-progress-text small muted' });
  const meta = h('p', { class: 'job-meta small muted' });
  const err = h('div', { class: 'job-error' });
  const cancel = h('button', { type: 'button', class: 'danger job-cancel' }, 'Cancel');
  const el = h('li', { class: 'job', dataset: { jobId: id } },
    h('div', { class: 'job-head' }, title, state, h('span', { class: 'job-actions' }, cancel)),
    h('div', { class: 'job-bar' }, bar, ptext), meta, err);
  let current = null, kept = null; // kept: the state a cancel error was shown in
  cancel.addEventListener('click', () => current && onCancel(current, row));

  const row = {
    el,
    showError(e, what) { kept = current && current.state; mount(err, errorBox(e, what)); },
    update(job) {
      current = job;
      const p = job.params || {};
      const index = p.index || (job.result && job.result.index) || '';
      const dataset = p.dataset || '';
      mount(title, h('span', { class: 'badge' }, job.kind || 'job'), ' ',
        index ? h('strong', {}, index) : null,
        dataset ? [' on ', h('a', { href: link('explore', [dataset]) }, dataset)] : null,
        p.text_column ? h('span', { class: 'muted small' }, ` (${p.text_column})`) : null);
      state.textContent = job.state || 'unknown';
      state.className = 'badge job-state badge-' + (STATE_KIND[job.state] || 'info');
      const { pct, text } = progressOf(job);
      bar.classList.toggle('indeterminate', pct === null && ACTIVE.has(job.state));
      fill.style.width = (pct === null ? 0 : pct) + '%';
      if (pct === null) bar.removeAttribute('aria-valuenow');
      else bar.setAttribute('aria-valuenow', String(pct));
      bar.setAttribute('aria-valuetext', text || job.state || '');
      ptext.textContent = text;
      const bits = [`attempts ${job.attempts ?? 0}`];
      if (job.started_ms) bits.push(`started ${fmtMillis(job.started_ms)}`);
      else if (job.created_ms) bits.push(`queued ${fmtMillis(job.created_ms)}`);
      if (job.finished_ms) bits.push(`finished ${fmtMillis(job.finished_ms)}`);
      const r = job.result;
      if (r) {
        if (r.mode) bits.push(`mode ${r.mode}`);
        if (typeof r.chunks === 'number') bits.push(`${fmtNumber(r.chunks)} chunks`);
        if (typeof r.build_ms === 'number') bits.push(`built in ${fmtMs(r.build_ms)}`);
      }
      meta.textContent = bits.join(' · ');
      if (job.state === 'failed' && job.error)
        mount(err, errorBox({ code: job.error.code, message: job.error.message }, 'The job'));
      else if (kept !== job.state) { kept = null; mount(err); }
      cancel.classList.toggle('hidden', !ACTIVE.has(job.state));
      cancel.setAttribute('aria-label', `Cancel the build of ${index || job.id}`);
    },
  };
  return row;
}

// opts: interval (ms between polls; 0 = refresh only when told), limit (rows shown, newest
// first), emptyText. Returns {el, refresh(), track(jobId), stop()}.
export function jobsList(opts = {}) {
  const interval = opts.interval ?? 1000;
  const limit = opts.limit || 25;
  const status = h('div', { class: 'jobs-status' }, loading('Loading jobs…'));
  const list = h('ul', { class: 'jobs', 'aria-label': 'Background jobs', 'aria-live': 'polite' });
  const more = h('p', { class: 'small muted' });
  const el = h('div', { class: 'jobs-wrap' }, status, list, more);
  const rows = new Map();
  let stopped = false, loaded = false, stopPoll = null, inflight = null;

  async function cancelJob(job, row) {
    try {
      const rec = await api(`/vectors/jobs/${encodeURIComponent(job.id)}`, { method: 'DELETE' });
      if (rec && rec.id) row.update(rec);
    } catch (e) {
      row.showError(e, 'Cancelling the job');
    }
    refresh();
  }

  function draw(jobs) {
    const shown = jobs.slice(0, limit);
    const keep = new Set(shown.map((j) => j.id));
    for (const [id, r] of rows) if (!keep.has(id)) { r.el.remove(); rows.delete(id); }
    shown.forEach((job, i) => {
      let r = rows.get(job.id);
      if (!r) { r = jobRow(job.id, cancelJob); rows.set(job.id, r); }
      r.update(job);
      // Move a row only when it is out of place: moving a node drops its focus.
      if (list.children[i] !== r.el) list.insertBefore(r.el, list.children[i] || null);
    });
    more.textContent = jobs.length > limit ? `${jobs.length - limit} older jobs not shown.` : '';
    if (!jobs.length) mount(status, empty(opts.emptyText || 'No background jobs yet.'));
    else mount(status);
  }

  async function load() {
    try {
      const doc = await api('/vectors/jobs');
      if (stopped) return;
      loaded = true;
      draw((doc && doc.jobs) || []);
    } catch (e) {
      if (stopped) return;
      // Keep the rows we know; say above them that they may be out of date.
      mount(status, errorBox(e, loaded ? 'Refreshing the jobs' : 'Loading the jobs'));
    }
  }

  // One load at a time; a refresh asked for during a load waits for it and loads again.
  function refresh() {
    if (inflight) return inflight.then(() => (stopped ? null : load()));
    inflight = load().finally(() => { inflight = null; });
    return inflight;
  }

  // Shows a job at once (e.g. the answer of POST /vectors/index) before the next poll.
  function track(job) {
    if (!job || !job.id || rows.has(job.id)) return;
    const r = jobRow(job.id, cancelJob);
    rows.set(job.id, r);
    r.update(job);
    list.insertBefore(r.el, list.firstChild);
    mount(status);
  }

  refresh();
  if (interval > 0) stopPoll = poll(refresh, interval);
  return {
    el, refresh, track,
    stop() { stopped = true; if (stopPoll) stopPoll(); },
  };
}
