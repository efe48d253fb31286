// The SQL view (#/sql, #/sql?q=<sql> prefills the editor and runs it): a highlighted editor,
// the result as a sortable, paged table, exports of the full result as CSV or Parquet, and
// a side panel with the tables (click to insert a name) and the history of queries run; the
// editor completes table, column and function names from the same catalog list.
// A failed query leaves the server's message in place of the result, and a syntax error is
// also marked in the editor, with the cursor put on the spot, so it can be fixed at once.
import { sql, apiBlob } from '../api.js';
import { h, mount, errorBox, fmtNumber, fmtMs, download } from '../dom.js';
import { dataTable } from '../table.js';
import { createEditor, indexOfPosition } from '../editor.js';
import { historyPanel, addHistory } from '../sql/history.js';
import { tablesPanel } from '../sql/tables.js';
import { catalogCompleter } from '../sql/complete.js';

const LIMIT = 10000;          // rows shown; exports are not capped
const DRAFT = 'lh.sql.draft'; // the editor's text, kept while the tab lives

const EXPORTS = {
  csv: { label: 'Export CSV', accept: 'text/csv', file: 'result.csv' },
  parquet: { label: 'Export Parquet', accept: 'application/vnd.apache.parquet', file: 'result.parquet' },
};

// A sentence to add under the server's message, saying what the failure means here.
function explain(err) {
  switch (err.code) {
  case 'forbidden': return 'This view runs read-only statements: SELECT, EXPLAIN, DESCRIBE, SUMMARIZE or SHOW, one at a time.';
  case 'timeout': return 'The query ran past the server\'s time limit (query.timeout_ms). Narrow it with WHERE or LIMIT.';
  case 'busy': return 'Every query connection is busy; try again in a moment.';
  case 'too_large': return 'The result is over the server\'s size limit (query.max_result_bytes): add a LIMIT or select fewer columns.';
  default: return null;
  }
}

function readDraft() {
  try { return sessionStorage.getItem(DRAFT) || ''; } catch { return ''; }
}
function writeDraft(text) {
  try { sessionStorage.setItem(DRAFT, text); } catch { /* the draft is a nicety */ }
}

export async function render(root, route) {
  const controllers = new Set();   // in-flight requests, aborted when the view goes away
  let running = null;              // the AbortController of the query in flight
  let seq = 0;                     // the latest run; older answers are ignored

  // Completion offers the catalog's names once the table list (below) has loaded them.
  let complete = null;
  const editor = createEditor({
    complete: (ctx) => (complete ? complete(ctx) : []),
    value: readDraft(),
    label: 'SQL query',
    placeholder: 'SELECT * FROM candidates LIMIT 100',
    rows: 6,
    onRun: () => run(),
  });
  editor.textarea.addEventListener('input', () => writeDraft(editor.getValue()));

  const runBtn = h('button', { type: 'button', class: 'primary', onclick: () => run() }, 'Run');
  const cancelBtn = h('button', { type: 'button', class: 'hidden', onclick: () => running && running.abort() }, 'Cancel');
  const exportBtns = Object.entries(EXPORTS).map(([kind, x]) =>
    h('button', { type: 'button', dataset: { export: kind }, onclick: (ev) => exportAs(kind, ev.currentTarget) }, x.label));
  const exportMsg = h('div', { class: 'sql-export-msg' });

  const status = h('div', { class: 'sql-status', role: 'status', 'aria-live': 'polite' });
  const result = h('div', { class: 'sql-result' },
    h('p', { class: 'muted empty' }, 'Run a query to see its result here.'));

  const history = historyPanel((text) => {
    editor.setValue(text);
    writeDraft(text);
    editor.focus();
  });
  const tables = tablesPanel({ onInsert: insert, signal: track(new AbortController()).signal,
    onLoad: (datasets) => { complete = catalogCompleter(datasets); } });

  mount(root,
    h('div', { class: 'sql-layout' },
      h('div', { class: 'sql-main' },
        h('section', { class: 'panel sql-editor-panel', 'aria-label': 'Query' },
          h('h1', { class: 'sql-title' }, 'SQL'),
          editor.el,
          h('div', { class: 'toolbar sql-toolbar' },
            runBtn, cancelBtn,
            h('span', { class: 'small muted sql-hint' }, h('kbd', {}, 'Ctrl'), '+', h('kbd', {}, 'Enter')),
            h('span', { class: 'sql-spacer' }),
            h('span', { class: 'sql-exports' }, exportBtns)),
          exportMsg),
        h('section', { class: 'panel sql-result-panel', 'aria-label': 'Result' }, status, result)),
      h('aside', { class: 'sql-side', 'aria-label': 'Tables and history' }, tables, history.el)));

  function track(ctl) {
    controllers.add(ctl);
    return ctl;
  }

  // Puts text at the cursor (replacing a selection), with a space before it when it would
  // otherwise run into the previous word.
  function insert(text) {
    const ta = editor.textarea;
    const start = ta.selectionStart, end = ta.selectionEnd;
    const before = ta.value.slice(0, start);
    const piece = /[\w")]$/.test(before) ? ' ' + text : text;
    ta.setRangeText(piece, start, end, 'end');
    ta.dispatchEvent(new Event('input'));   // repaints the highlighting, saves the draft
    ta.focus();
  }

  function setRunning(on) {
    runBtn.disabled = on;
    cancelBtn.classList.toggle('hidden', !on);
    result.classList.toggle('is-stale', on);
    result.setAttribute('aria-busy', String(on));
  }

  async function run() {
    const text = editor.getValue();
    if (!text.trim()) {
      mount(status, h('span', { class: 'muted' }, 'Type a query first.'));
      editor.focus();
      return;
    }
    if (running) running.abort();
    const ctl = track(new AbortController());
    const my = ++seq;
    running = ctl;
    editor.markError(null);
    setRunning(true);
    // The last result stays visible (dimmed) until the new one arrives.
    mount(status, h('span', { class: 'loading sql-running' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Running…'));
    const t0 = performance.now();
    try {
      const res = await sql(text, { limit: LIMIT, signal: ctl.signal });
      if (my !== seq) return;
      showResult(res, text);
    } catch (err) {
      if (my !== seq) return;
      showError(err, text, performance.now() - t0);
    } finally {
      controllers.delete(ctl);
      if (my === seq) { running = null; setRunning(false); }
    }
  }

  function showResult(res, text) {
    const columns = res.columns || [], rows = res.rows || [];
    const count = typeof res.row_count === 'number' ? res.row_count : rows.length;
    addHistory({ sql: text, at: new Date().toISOString(), rows: count, ms: res.elapsed_ms ?? null });
    history.refresh();
    mount(status,
      h('span', { class: 'sql-count' }, `${fmtNumber(count)} ${count === 1 ? 'row' : 'rows'}`),
      typeof res.elapsed_ms === 'number' ? h('span', { class: 'muted sql-ms' }, fmtMs(res.elapsed_ms)) : null,
      res.truncated ? h('span', { class: 'badge badge-warn sql-truncated' },
        `first ${fmtNumber(count)} rows; export gives all rows`) : null);
    const table = dataTable(columns, rows, { pageSize: 50, label: 'Query result' });
    // A failure after the rows began streaming ends the document with an "error" member:
    // the rows that arrived are shown, under the message saying the result is incomplete.
    const late = res.error ? errorBox({ code: res.error.code, message: res.error.message, requestId: res.error.request_id },
      'Reading the whole result') : null;
    mount(result, late, table);
  }

  function showError(err, text, ms) {
    if (err.aborted) {
      mount(status, h('span', { class: 'muted' }, 'Query cancelled; the result below is from the previous run.'));
      return;
    }
    addHistory({ sql: text, at: new Date().toISOString(), rows: null, ms: Math.round(ms), error: err.code || 'error' });
    history.refresh();
    mount(status, h('span', { class: 'sql-failed' }, `Failed after ${fmtMs(ms)}`));
    const box = errorBox(err, 'Running the query');
    const hint = explain(err);
    if (hint) box.querySelector('.msg').after(h('p', { class: 'sql-err-hint' }, hint));
    const pos = err.position;
    if (err.code === 'sql_error' && pos && pos.line) {
      const here = `line ${pos.line}, column ${pos.column}`;
      box.insertBefore(h('p', { class: 'sql-err-pos' }, `At ${here}:`, ' ',
        h('button', { type: 'button', class: 'link', onclick: () => placeCursor(pos) }, 'show in editor')),
        box.querySelector('.msg'));
      // Mark it only if the text is still what ran; an edit meanwhile would misplace it.
      if (editor.getValue() === text) {
        editor.markError(pos);
        placeCursor(pos);
      }
    }
    mount(result, box);
  }

  function placeCursor(pos) {
    const i = indexOfPosition(editor.getValue(), pos.line, pos.column);
    if (i < 0) return;
    editor.textarea.focus();
    editor.textarea.setSelectionRange(i, i);
  }

  async function exportAs(kind, btn) {
    const x = EXPORTS[kind];
    const text = editor.getValue();
    mount(exportMsg);
    if (!text.trim()) {
      mount(exportMsg, h('p', { class: 'muted small' }, 'Type a query to export its result.'));
      return;
    }
    const ctl = track(new AbortController());
    btn.disabled = true;
    btn.classList.add('is-busy');
    mount(btn, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Exporting…');
    try {
      const blob = await apiBlob('/query/sql', { body: { sql: text }, accept: x.accept, signal: ctl.signal });
      download(blob, x.file);
      mount(exportMsg, h('p', { class: 'small muted' }, `Saved ${x.file} (${fmtNumber(blob.size)} bytes).`));
    } catch (err) {
      if (!err.aborted) mount(exportMsg, errorBox(err, x.label));
    } finally {
      controllers.delete(ctl);
      btn.disabled = false;
      btn.classList.remove('is-busy');
      mount(btn, x.label);
    }
  }

  const q = route.query.get('q');
  if (q) {
    editor.setValue(q);
    writeDraft(q);
    run();
  }

  return () => { for (const c of controllers) c.abort(); controllers.clear(); };
}
