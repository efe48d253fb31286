// Ingest: drop or choose files, upload them one after another to POST /ingest/file with a
// progress bar each, then show what the lake made of each: the dataset, the detected schema
// with its PII flags, the schema change, or that the content was a duplicate. Below, the
// index builds (jobs.js, polled every second) and a form that starts one.
import { api, upload } from '../api.js';
import { link } from '../app.js';
import { h, mount, errorBox, loading, badge, fmtNumber, fmtBytes, fmtMs, toast, scroller } from '../dom.js';
import { jobsList } from '../jobs.js';

// The dataset name the server derives from a file name (for display only; it decides).
function nameFromFile(fileName) {
  let s = String(fileName).replace(/\.(tar\.gz|[a-z0-9]{1,8})$/i, '').toLowerCase().replace(/[^a-z0-9_]+/g, '_');
  if (!/^[a-z_]/.test(s)) s = '_' + s;
  return s.slice(0, 63);
}

function schemaTable(columns) {
  return scroller('Detected schema', 'ingest-schema',
    h('table', { class: 'data', 'aria-label': 'Detected schema' },
      h('thead', {}, h('tr', {}, ['Column', 'Type', 'PII', 'Sensitive'].map((t) => h('th', { scope: 'col' }, h('span', { class: 'th-plain' }, t))))),
      h('tbody', {}, (columns || []).map((c) =>
        h('tr', { class: c.pii || c.sensitive ? 'pii-row' : null, dataset: { column: c.name } },
          h('td', {}, h('code', {}, c.name)),
          h('td', { class: 'muted' }, c.type),
          h('td', {}, c.pii ? badge(c.pii, 'warn') : h('span', { class: 'muted' }, '—')),
          h('td', {}, c.sensitive ? badge('sensitive', 'bad') : h('span', { class: 'muted' }, 'no')))))));
}

function diffList(d) {
  if (!d) return null;
  const items = [];
  for (const c of d.added || []) items.push(h('li', {}, badge('added', 'ok'), ' ', h('code', {}, c.name), ` ${c.type || ''}`));
  for (const c of d.removed || []) items.push(h('li', {}, badge('removed', 'bad'), ' ', h('code', {}, c.name), ` ${c.type || ''}`));
  for (const c of d.type_changed || []) items.push(h('li', {}, badge('retyped', 'warn'), ' ', h('code', {}, c.name), ` ${c.from} → ${c.to}`));
  for (const c of d.renamed || []) items.push(h('li', {}, badge('renamed?', 'warn'), ' ', h('code', {}, c.from), ' → ', h('code', {}, c.to)));
  if (d.reordered) items.push(h('li', {}, badge('reordered', 'info'), ' the columns came in another order'));
  if (!items.length) return null;
  return h('div', { class: 'ingest-diff' }, h('h4', {}, 'Schema change'), h('ul', {}, items));
}

// The card shown under a file's row once the server answered.
function resultCard(res) {
  const dsLink = h('a', { href: link('explore', [res.dataset]) }, res.dataset);
  if (res.duplicate) {
    return h('div', { class: 'ingest-result' },
      h('p', { class: 'notice notice-dup', role: 'status' },
        h('strong', {}, 'Duplicate: '),
        'this exact content is already in the lake (dataset ', dsLink, `, version ${res.version}); nothing was stored.`));
  }
  const what = res.created ? `created (version ${res.version})` : `appended (version ${res.version})`;
  const pii = (res.columns || []).filter((c) => c.pii);
  return h('div', { class: 'ingest-result' },
    h('dl', { class: 'kv' },
      h('dt', {}, 'Dataset'), h('dd', { class: 'res-dataset' }, dsLink),
      h('dt', {}, 'Outcome'), h('dd', { class: 'res-outcome' }, badge(res.created ? 'created' : 'appended', res.created ? 'ok' : 'info'), ' ', what),
      h('dt', {}, 'Rows'), h('dd', { class: 'res-rows' }, fmtNumber(res.rows)),
      h('dt', {}, 'Format'), h('dd', {}, res.format || ''),
      h('dt', {}, 'Size'), h('dd', {}, fmtBytes(res.bytes)),
      h('dt', {}, 'Elapsed'), h('dd', {}, fmtMs(res.elapsed_ms)),
      h('dt', {}, 'PII'), h('dd', {}, pii.length ? `${pii.length} column${pii.length > 1 ? 's' : ''} flagged` : 'none found')),
    diffList(res.schema_diff),
    (res.columns && res.columns.length) ? [h('h4', {}, 'Detected schema'), schemaTable(res.columns)] : null);
}

// One file's row: name, size, progress, Cancel, then the result or the error.
function uploadRow(file) {
  const fill = h('div');
  const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
                         'aria-valuenow': '0', 'aria-label': `upload of ${file.name}` }, fill);
  const state = h('span', { class: 'upload-state small muted' }, 'waiting');
  const cancel = h('button', { type: 'button', class: 'danger', 'aria-label': `Cancel the upload of ${file.name}` }, 'Cancel');
  const body = h('div', { class: 'upload-body' });
  const el = h('li', { class: 'upload', dataset: { file: file.name } },
    h('div', { class: 'upload-head' },
      h('strong', { class: 'upload-name' }, file.name),
      h('span', { class: 'small muted' }, fmtBytes(file.size)),
      state, h('span', { class: 'upload-actions' }, cancel)),
    bar, body);
  return {
    el, cancel,
    progress(pct, text) {
      fill.style.width = pct + '%';
      bar.setAttribute('aria-valuenow', String(pct));
      state.textContent = text;
    },
    processing() {
      this.progress(100, 'processing…');
      bar.classList.add('busy');
    },
    done(res) {
      bar.classList.remove('busy');
      el.classList.add(res.duplicate ? 'is-dup' : 'is-ok');
      state.textContent = res.duplicate ? 'duplicate' : 'ingested';
      cancel.remove();
      mount(body, resultCard(res));
    },
    failed(err, what) {
      bar.classList.remove('busy');
      el.classList.add('is-bad');
      state.textContent = err.aborted ? 'cancelled' : `failed (${err.status || 'network'})`;
      cancel.remove();
      mount(body, errorBox(err, what));
    },
  };
}

export async function render(root) {
  let alive = true;
  const queue = [];
  let running = false;

  // ---- upload options ----
  const nameIn = h('input', { type: 'text', id: 'ing-name', placeholder: 'from the file name', autocomplete: 'off',
                              pattern: '[a-z_][a-z0-9_]{0,62}', title: 'a-z, 0-9 and _, starting with a letter or _' });
  const bucketSel = h('select', { id: 'ing-bucket' }, h('option', { value: 'primary' }, 'primary'));
  const bucketNote = h('div', { class: 'small' });
  const schemaSel = h('select', { id: 'ing-schema' },
    h('option', { value: 'fail' }, 'fail'), h('option', { value: 'add_columns' }, 'add new columns'));
  const fileIn = h('input', { type: 'file', id: 'ing-files', multiple: true, class: 'visually-hidden' });
  const drop = h('div', { class: 'dropzone', 'aria-describedby': 'ing-drop-help' },
    h('svg:svg', { viewBox: '0 0 24 24', width: '32', height: '32', 'aria-hidden': 'true', class: 'drop-icon' },
      h('svg:path', { d: 'M12 3 6 9h4v6h4V9h4zM4 17h16v3H4z', fill: 'currentColor' })),
    h('p', { id: 'ing-drop-help' }, 'Drop files here (CSV, TSV, JSON, NDJSON, Parquet, PDF, text, zip/tar), or'),
    h('label', { class: 'button primary file-button', for: 'ing-files' }, fileIn, 'Choose files…'));
  const uploads = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });

  const opts = h('div', { class: 'row ingest-options' },
    h('label', { class: 'field grow', for: 'ing-name' }, 'Dataset name (optional)', nameIn),
    h('label', { class: 'field', for: 'ing-bucket' }, 'Bucket', bucketSel),
    h('label', { class: 'field', for: 'ing-schema' }, 'On schema change', schemaSel));

  // ---- index builds ----
  const jobs = jobsList({ interval: 1000, emptyText: 'No index builds yet.' });
  const dsSel = h('select', { id: 'vi-dataset', required: true }, h('option', { value: '' }, 'loading…'));
  const textSel = h('select', { id: 'vi-text', required: true });
  const idSel = h('select', { id: 'vi-id', required: true });
  const idxIn = h('input', { type: 'text', id: 'vi-index', autocomplete: 'off', pattern: '[a-z_][a-z0-9_]{0,62}',
                             title: 'a-z, 0-9 and _, starting with a letter or _' });
  const buildBtn = h('button', { type: 'submit', class: 'primary' }, 'Build index');
  const formMsg = h('div', { class: 'build-msg' });
  let datasets = [];
  const form = h('form', { class: 'build-form', 'aria-label': 'Build a vector index' },
    h('div', { class: 'row' },
      h('label', { class: 'field grow', for: 'vi-dataset' }, 'Dataset', dsSel),
      h('label', { class: 'field grow', for: 'vi-text' }, 'Text column', textSel),
      h('label', { class: 'field grow', for: 'vi-id' }, 'Id column', idSel),
      h('label', { class: 'field grow', for: 'vi-index' }, 'Index name', idxIn),
      h('div', { class: 'field build-submit' }, buildBtn)),
    formMsg);

  mount(root,
    h('h1', {}, 'Ingest'),
    h('section', { class: 'panel', 'aria-labelledby': 'ing-up-h' },
      h('h2', { id: 'ing-up-h' }, 'Upload files'),
      drop, opts, bucketNote, uploads),
    h('section', { class: 'panel', 'aria-labelledby': 'ing-jobs-h' },
      h('h2', { id: 'ing-jobs-h' }, 'Index builds'),
      h('h3', {}, 'Build a vector index'), form,
      h('h3', {}, 'Jobs'), jobs.el));

  // ---- buckets ----
  api('/storage/buckets').then((list) => {
    if (!alive) return;
    const data = (list || []).filter((b) => b.role !== 'rescue');
    if (data.length) mount(bucketSel, data.map((b) => h('option', { value: b.name }, b.name)));
  }).catch((e) => { if (alive) mount(bucketNote, errorBox(e, 'Loading the buckets (uploads go to primary)')); });

  // ---- uploading ----
  function enqueue(files) {
    // The newest batch goes on top, its files in the order they were chosen.
    const batch = document.createDocumentFragment();
    for (const file of files) {
      const row = uploadRow(file);
      batch.append(row.el);
      const job = { file, row, name: nameIn.value.trim(), bucket: bucketSel.value, onSchema: schemaSel.value,
                    abort: null, cancelled: false };
      row.cancel.addEventListener('click', () => {
        job.cancelled = true;
        if (job.abort) job.abort();
        else row.failed({ aborted: true, message: 'upload cancelled before it started' }, 'Uploading');
      });
      queue.push(job);
    }
    uploads.prepend(batch);
    pump();
  }

  async function pump() {
    if (running) return;
    running = true;
    while (queue.length) {
      const job = queue.shift();
      if (job.cancelled) continue;
      await send(job);
    }
    running = false;
  }

  async function send(job) {
    const { file, row } = job;
    const q = new URLSearchParams({ on_schema_change: job.onSchema });
    if (job.name) q.set('name', job.name);
    const headers = { 'X-Lakehouse-Bucket': job.bucket || 'primary' };
    row.progress(0, 'uploading 0%');
    const up = upload('/ingest/file?' + q.toString(), file, {
      headers,
      onProgress(loaded, total) {
        const pct = total ? Math.min(100, Math.round((loaded / total) * 100)) : 0;
        if (loaded >= total) row.processing();
        else row.progress(pct, `uploading ${pct}%`);
      },
    });
    job.abort = up.abort;
    try {
      const { body } = await up.promise;
      row.processing();
      row.done(body);
      if (!alive) toast(body.duplicate ? `${file.name}: duplicate of ${body.dataset}, nothing stored`
                                       : `${file.name}: ingested into ${body.dataset} (${fmtNumber(body.rows)} rows)`, 'ok');
      if (!body.duplicate) loadDatasets(body.dataset);
    } catch (e) {
      row.failed(e, `Ingesting ${file.name}`);
      if (!alive && !e.aborted) toast(`${file.name}: ${e.message}`, 'bad');
    }
  }

  fileIn.addEventListener('change', () => {
    if (fileIn.files && fileIn.files.length) enqueue([...fileIn.files]);
    fileIn.value = '';
  });
  let depth = 0; // dragenter/leave fire for every child: count them
  drop.addEventListener('dragenter', (ev) => { ev.preventDefault(); depth++; drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; drop.classList.remove('over'); } });
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy'; });
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    depth = 0;
    drop.classList.remove('over');
    const files = ev.dataTransfer ? [...ev.dataTransfer.files] : [];
    if (files.length) enqueue(files);
  });
  // A file dropped beside the zone would make the browser open it and leave the app.
  const guard = (ev) => { if (ev.dataTransfer && [...ev.dataTransfer.types].includes('Files')) ev.preventDefault(); };
  window.addEventListener('dragover', guard);
  window.addEventListener('drop', guard);

  // ---- the build form ----
  function varcharCols(ds) { return (ds.columns || []).filter((c) => /^(VARCHAR|TEXT|STRING)/i.test(c.type)); }
  function fillColumns() {
    const ds = datasets.find((d) => d.name === dsSel.value);
    const text = ds ? varcharCols(ds) : [];
    mount(textSel, text.length ? text.map((c) => h('option', { value: c.name }, c.name))
                               : h('option', { value: '' }, ds ? 'no text columns' : '—'));
    mount(idSel, (ds ? ds.columns : []).map((c) => h('option', { value: c.name }, `${c.name} (${c.type})`)));
    if (ds) {
      // Prefer a column called id or <something>_id as the id.
      const id = ds.columns.find((c) => /(^|_)id$/i.test(c.name)) || ds.columns[0];
      if (id) idSel.value = id.name;
      // A long text column is the likelier thing to search: pick the last VARCHAR that is not the id.
      const t = text.filter((c) => c.name !== idSel.value);
      if (t.length) textSel.value = t[t.length - 1].name;
    }
    idxIn.placeholder = ds ? ds.name : '';
    buildBtn.disabled = !ds || !text.length;
  }
  dsSel.addEventListener('change', fillColumns);

  async function loadDatasets(select) {
    try {
      const doc = await api('/catalog/datasets');
      if (!alive) return;
      datasets = (doc && doc.datasets) || [];
      const keep = select || dsSel.value;
      mount(dsSel, datasets.length ? [h('option', { value: '' }, 'choose a dataset'), datasets.map((d) => h('option', { value: d.name }, d.name))]
                                   : h('option', { value: '' }, 'no datasets yet'));
      if (keep && datasets.some((d) => d.name === keep)) dsSel.value = keep;
      fillColumns();
      if (formMsg.querySelector('[data-load-error]')) mount(formMsg);
    } catch (e) {
      if (!alive) return;
      const box = errorBox(e, 'Loading the datasets');
      box.dataset.loadError = '1';
      mount(formMsg, box);
      buildBtn.disabled = true;
    }
  }
  loadDatasets();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const dataset = dsSel.value;
    if (!dataset || !textSel.value || !idSel.value) {
      mount(formMsg, errorBox({ message: 'choose a dataset, a text column and an id column' }, 'Starting the build'));
      return;
    }
    const body = { dataset, text_column: textSel.value, id_column: idSel.value, index: idxIn.value.trim() || dataset };
    buildBtn.disabled = true;
    mount(formMsg, loading('Starting the build…'));
    try {
      const res = await api('/vectors/index', { body });
      if (!alive) return;
      mount(formMsg, h('p', { class: 'small', role: 'status' }, 'Started the build of ', h('strong', {}, res.index), '; follow it below.'));
      jobs.track({ id: res.job_id, kind: 'vector_index', state: 'queued', params: body, attempts: 0 });
      jobs.refresh();
    } catch (e) {
      if (alive) mount(formMsg, errorBox(e, 'Starting the build'));
    } finally {
      if (alive) buildBtn.disabled = false;
    }
  });

  return () => {
    alive = false;
    jobs.stop();
    window.removeEventListener('dragover', guard);
    window.removeEventListener('drop', guard);
  };
}
