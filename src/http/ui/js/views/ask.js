// Ask (the landing page): a question answered from the tables (NL->SQL, POST /ai/ask: the
// generated SQL, editable and re-runnable, the result as a chart and a table) or from the
// documents (RAG, POST /vectors/rag: the answer with numbered citations that open the cited
// passage). The question, mode and index live in the hash query (?q=&mode=&index=) so an
// answer can be linked and survives a reload; a question in the hash runs once on arrival.
// Without a generation model (GET /health models.generate is null) Tables mode says so and
// Documents mode, which still answers with extractive passages, is the default.
import { api, apiStream, sql } from '../api.js';
import { h, mount, errorBox, loading, badge, fmtMs, fmtNumber } from '../dom.js';
import { dataTable } from '../table.js';
import { createEditor } from '../editor.js';
import { chart } from '../chart.js';
import { citedAnswer } from '../citations.js';
import { link } from '../app.js';
import { catalogCompleter } from '../sql/complete.js';

const ROW_LIMIT = 1000;
const RAG_K = 5;

function isReady(ix) {
  return (ix.state || ix.status) === 'ready';
}

// Writes the question state into the hash without a navigation (no hashchange: the view
// stays as it is and nothing runs twice).
function saveState(state) {
  const q = { q: state.q, mode: state.mode, index: state.mode === 'documents' ? state.index : null };
  history.replaceState(null, '', link('ask', [], q));
}

export async function render(root, route) {
  const ctl = new AbortController();
  let runId = 0;               // answers of an older question are dropped
  let resizeStop = null;
  // The generated-SQL editor completes names from the catalog, fetched in the background
  // the first time it is shown; if that fails there is simply no completion.
  let catalog = null, catalogAsked = false;
  const complete = (ctx) => (catalog ? catalog(ctx) : []);
  function loadCatalog() {
    if (catalogAsked) return;
    catalogAsked = true;
    api('/catalog/datasets', { signal: ctl.signal })
      .then((r) => { catalog = catalogCompleter((r && r.datasets) || []); })
      .catch(() => { catalogAsked = false; });   // tried again with the next answer
  }

  const state = {
    q: route.query.get('q') || '',
    mode: route.query.get('mode'),
    index: route.query.get('index') || '',
  };

  const result = h('section', { class: 'ask-result', 'aria-label': 'Answer' });
  mount(root, h('h1', {}, 'Ask'), h('div', { class: 'panel' }, loading('Checking the models and indexes…')), result);

  const [health, indexes] = await Promise.allSettled([
    api('/health', { signal: ctl.signal }),
    api('/vectors/indexes', { signal: ctl.signal }),
  ]);
  if (ctl.signal.aborted) return () => {};
  const generate = health.status === 'fulfilled' ? (health.value.models || {}).generate || null : null;
  const hasModel = !!generate;
  const ixList = indexes.status === 'fulfilled' ? indexes.value.indexes || [] : [];
  if (state.mode !== 'tables' && state.mode !== 'documents') state.mode = hasModel ? 'tables' : 'documents';
  if (!ixList.some((ix) => ix.name === state.index)) {
    const first = ixList.find(isReady) || ixList[0];
    state.index = first ? first.name : '';
  }

  // ---- the form -------------------------------------------------------------------------
  const question = h('textarea', { id: 'ask-q', class: 'ask-q', rows: 2, 'aria-describedby': 'ask-hint',
    placeholder: 'e.g. how many open jobs are there per state? · who knows python?' });
  question.value = state.q;
  const askBtn = h('button', { type: 'submit', class: 'primary' }, 'Ask');

  const modeRadio = (value, text, hint) => h('label', { class: 'ask-mode' },
    h('input', { type: 'radio', name: 'ask-mode', value, checked: state.mode === value,
                 onchange: () => setMode(value) }),
    h('span', {}, h('strong', {}, text), h('span', { class: 'muted small' }, hint)));
  const modes = h('fieldset', { class: 'ask-modes' },
    h('legend', {}, 'Answer from'),
    modeRadio('tables', 'Tables', ' SQL over the datasets'),
    modeRadio('documents', 'Documents', ' passages of a vector index'));

  const indexSelect = h('select', { id: 'ask-index', onchange: () => { state.index = indexSelect.value; saveState(state); } },
    ixList.map((ix) => h('option', { value: ix.name, selected: ix.name === state.index },
      `${ix.name} (${ix.dataset}${isReady(ix) ? '' : ', ' + (ix.state || ix.status)})`)));
  let indexField;
  if (indexes.status === 'rejected') indexField = errorBox(indexes.reason, 'Listing the vector indexes');
  else if (!ixList.length)
    indexField = h('p', { class: 'muted small' }, 'No vector index yet: build one from a text column (Ingest) to ask the documents.');
  else indexField = h('label', { class: 'field', for: 'ask-index' }, 'Index', indexSelect);
  const indexBox = h('div', { class: 'ask-index' }, indexField);

  const modelNote = h('div', { class: 'ask-note', role: 'note' });
  if (health.status === 'rejected') mount(modelNote, errorBox(health.reason, 'Checking the server health'));
  else if (hasModel)
    mount(modelNote, h('span', { class: 'muted small' }, `Generation model: ${generate.model || '?'} (${generate.provider || '?'})`));

  const form = h('form', { class: 'panel ask-form', onsubmit: (ev) => { ev.preventDefault(); submit(); } },
    h('label', { for: 'ask-q', class: 'ask-q-label' }, 'Your question'),
    question,
    h('p', { id: 'ask-hint', class: 'muted small ask-hint' },
      h('kbd', {}, 'Enter'), ' asks, ', h('kbd', {}, 'Shift'), '+', h('kbd', {}, 'Enter'), ' starts a new line.'),
    h('div', { class: 'ask-controls' }, modes, indexBox, h('div', { class: 'ask-submit' }, askBtn)),
    modelNote);
  question.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); submit(); }
  });

  mount(root, h('h1', {}, 'Ask'), form, result);

  function noModelNotice() {
    return h('div', { class: 'panel ask-notice', role: 'status', 'data-testid': 'no-model' },
      h('strong', {}, 'No generation model is configured'),
      h('p', {}, 'Tables mode writes SQL with a language model: set [generate] provider, model and url in ',
        h('code', {}, 'lakehouse.toml'), ' (or LAKEHOUSE_GENERATE_PROVIDER, LAKEHOUSE_GENERATE_MODEL and ',
        'LAKEHOUSE_GENERATE_URL) and restart the server. Documents mode still answers with extractive passages.'),
      ixList.length ? h('button', { type: 'button', onclick: () => { setMode('documents'); question.focus(); } },
        'Ask the documents instead') : null);
  }

  function idle() {
    if (state.mode === 'tables' && !hasModel && health.status === 'fulfilled') mount(result, noModelNotice());
    else mount(result);
  }

  function setMode(m) {
    state.mode = m;
    for (const r of modes.querySelectorAll('input')) r.checked = r.value === m;
    indexBox.classList.toggle('hidden', m !== 'documents');
    saveState(state);
    runId++;   // an answer of the other mode still on its way is no longer wanted
    if (resizeStop) { resizeStop(); resizeStop = null; }
    idle();
  }

  function submit() {
    const q = question.value.trim();
    if (!q) {
      mount(result, h('p', { class: 'panel muted', role: 'status' }, 'Type a question first.'));
      question.focus();
      return;
    }
    state.q = q;
    saveState(state);
    run();
  }

  async function run() {
    const my = ++runId;
    if (resizeStop) { resizeStop(); resizeStop = null; }
    if (state.mode === 'tables' && !hasModel) { idle(); return; }
    if (state.mode === 'documents' && !state.index) {
      mount(result, h('div', { class: 'panel' }, indexField.cloneNode(true)));
      return;
    }
    askBtn.disabled = true;
    // With a model, the answer streams: its words show as they come, and Stop ends the
    // request (the server then stops the model). Without one, RAG answers at once.
    const stop = new AbortController();
    const leave = () => stop.abort();
    ctl.signal.addEventListener('abort', leave);
    const live = h('div', { class: ['ask-live', state.mode === 'tables' && 'mono'], 'aria-live': 'polite', 'data-testid': 'live' });
    const stopBtn = h('button', { type: 'button', onclick: () => { stopped = true; stop.abort(); } }, 'Stop');
    let stopped = false;
    mount(result, h('div', { class: 'panel' },
      h('div', { class: 'row' }, loading(state.mode === 'tables' ? 'Writing and running the SQL…' : 'Searching the passages…'),
        hasModel ? stopBtn : null),
      live));
    const onToken = (t) => { if (my === runId) live.append(t); };
    try {
      if (state.mode === 'tables') {
        const doc = await apiStream('/ai/ask', { question: state.q, limit: ROW_LIMIT }, { signal: stop.signal, onToken });
        if (my === runId) showTables(doc);
      } else {
        const ix = ixList.find((x) => x.name === state.index) || {};
        const body = { index: state.index, question: state.q, k: RAG_K };
        const [doc, meta] = await Promise.all([
          hasModel ? apiStream('/vectors/rag', body, { signal: stop.signal, onToken })
                   : api('/vectors/rag', { body, signal: stop.signal }),
          ix.dataset && ix.id_column ? ix : api('/vectors/indexes/' + encodeURIComponent(state.index), { signal: stop.signal }).catch(() => null),
        ]);
        if (my === runId) showDocuments(doc, meta);
      }
    } catch (err) {
      if (my !== runId || ctl.signal.aborted) return;
      if (err.aborted && stopped) {
        mount(result, h('p', { class: 'panel muted', role: 'status' }, 'Stopped. Ask again to get a full answer.'));
        return;
      }
      mount(result, h('div', { class: 'panel' }, errorBox(err, state.mode === 'tables' ? 'Answering from the tables' : 'Answering from the documents')));
    } finally {
      ctl.signal.removeEventListener('abort', leave);
      if (my === runId) askBtn.disabled = false;
    }
  }

  // ---- Tables ---------------------------------------------------------------------------
  function showTables(doc) {
    const out = h('div', { class: 'ask-rows' });
    const openSql = h('a', { class: 'button', href: link('sql', [], { q: doc.sql }) }, 'Open in SQL');
    const runBtn = h('button', { type: 'button', class: 'primary', onclick: () => rerun() }, 'Run again');
    const editor = createEditor({ value: doc.sql, label: 'Generated SQL', rows: 3, onRun: () => rerun(), complete });
    loadCatalog();
    editor.textarea.addEventListener('input', () => { openSql.href = link('sql', [], { q: editor.getValue() }); });

    async function rerun() {
      const text = editor.getValue().trim();
      if (!text) { mount(out, h('p', { class: 'muted' }, 'The SQL is empty.')); return; }
      const my = ++runId;
      runBtn.disabled = true;
      editor.markError(null);
      mount(out, loading('Running…'));
      try {
        const r = await sql(text, { limit: ROW_LIMIT, signal: ctl.signal });
        if (my === runId) showRows(out, r, r.elapsed_ms);
      } catch (err) {
        if (err.aborted || my !== runId) return;
        mount(out, errorBox(err, 'Running the SQL'));
        if (err.position) editor.markError(err.position);
      } finally {
        runBtn.disabled = false;
      }
    }

    const facts = h('p', { class: 'ask-facts muted small' },
      `model ${doc.model || '?'} · ${doc.attempts === 1 ? '1 attempt' : `${doc.attempts} attempts`} · ${fmtMs(doc.took_ms)}`);
    mount(result, h('div', { class: 'panel ask-tables' },
      h('h2', {}, 'Generated SQL'),
      doc.explanation ? h('p', { class: 'ask-explanation' }, doc.explanation) : null,
      doc.first_error ? h('div', { class: 'ask-corrected', role: 'note' },
        h('strong', {}, 'The first query failed and was corrected. '),
        h('span', { class: 'mono small' }, doc.first_error)) : null,
      editor.el,
      h('div', { class: 'toolbar ask-sql-actions' }, runBtn,
        h('span', { class: 'muted small' }, h('kbd', {}, 'Ctrl'), '+', h('kbd', {}, 'Enter')), openSql),
      facts,
      out));
    showRows(out, doc);
  }

  // The chart (when the result has that shape) above the table.
  function showRows(out, r, ms) {
    if (resizeStop) { resizeStop(); resizeStop = null; }
    const note = h('p', { class: 'muted small', 'data-testid': 'row-count' },
      `${fmtNumber(r.row_count ?? r.rows.length)} row${(r.row_count ?? r.rows.length) === 1 ? '' : 's'}`,
      r.truncated ? ` (cut at ${fmtNumber(ROW_LIMIT)}: open it in SQL for all of them)` : '',
      typeof ms === 'number' ? ` · ${fmtMs(ms)}` : '');
    const chartBox = h('figure', { class: 'ask-chart' });
    mount(out, chartBox, note, dataTable(r.columns, r.rows, { label: 'Answer rows', pageSize: 50 }));
    drawChart(chartBox, r);
  }

  // Draws at the box's pixel width (so the text keeps its size) and again when that
  // width changes a lot (a rotated phone, a resized window).
  function drawChart(box, r) {
    let drawnAt = 0;
    const draw = () => {
      const w = box.clientWidth || 640;
      if (Math.abs(w - drawnAt) < 40) return;
      drawnAt = w;
      const svg = chart(r.columns, r.rows, { width: Math.min(w, 900) });
      if (svg) mount(box, svg);
      else box.remove();
    };
    draw();
    if (!box.isConnected) return;
    const ro = new ResizeObserver(() => draw());
    ro.observe(box);
    resizeStop = () => ro.disconnect();
  }

  // ---- Documents ------------------------------------------------------------------------
  function showDocuments(doc, meta) {
    const source = meta ? { dataset: meta.dataset, idColumn: meta.id_column } : null;
    const t = doc.timings || {};
    const timing = [['embed', t.embed_ms], ['search', t.search_ms], ['rerank', t.rerank_ms],
                    ['generate', t.generate_ms], ['total', t.total_ms]]
      .filter(([k, v]) => typeof v === 'number' && (v >= 0.01 || k === 'total' || (k === 'generate' && doc.model)))
      .map(([k, v]) => `${k} ${fmtMs(v)}`).join(' · ');
    mount(result, h('div', { class: 'panel ask-docs' },
      h('div', { class: 'row ask-docs-head' },
        h('h2', {}, 'Answer'),
        badge(doc.mode === 'extractive' ? 'extractive: best passages' : 'generated', doc.mode === 'extractive' ? 'info' : 'ok'),
        doc.model ? h('span', { class: 'muted small' }, `model ${doc.model}`) : null),
      doc.mode === 'extractive' ? h('p', { class: 'muted small' },
        'No generation model is configured, so the answer is the passages that match best.') : null,
      citedAnswer(doc.answer, doc.citations, source),
      h('p', { class: 'muted small ask-facts' }, `index ${doc.index} · ${doc.passages ?? ''} passages · ${timing}`)));
  }

  // ---- start ----------------------------------------------------------------------------
  indexBox.classList.toggle('hidden', state.mode !== 'documents');
  if (state.q) run();
  else { idle(); question.focus(); }

  return () => {
    ctl.abort();
    if (resizeStop) resizeStop();
  };
}
