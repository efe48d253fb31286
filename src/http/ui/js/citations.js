// A RAG answer with its sources: the answer text with every [n] turned into a button, the
// numbered list of cited passages below it, and one modal <dialog> that shows a passage
// (snippet, doc id, chunk, score, a link to its source row in Explore). The server has
// already checked the references (every [n] left in the answer is the n of a citation),
// but a marker without a citation stays plain text rather than a dead button.
// The dialog closes with Escape or Close and gives focus back to the button that opened it.
import { h, mount, fmtNumber } from './dom.js';
import { link } from './app.js';

const MARK = /\[(\d+(?:\s*,\s*\d+)*)\]/g;

// The link to the row a citation came from, or null when the index's source is unknown.
export function sourceHref(source, docId) {
  if (!source || !source.dataset || !source.idColumn) return null;
  return link('explore', [source.dataset], { key: source.idColumn, value: docId });
}

function fmtScore(s) {
  return typeof s === 'number' ? s.toFixed(4) : String(s ?? '');
}

// Text with [n] / [n, m] markers -> an array of strings and citation buttons.
function linkify(text, byN, open) {
  const out = [];
  let last = 0, m;
  MARK.lastIndex = 0;
  while ((m = MARK.exec(text)) !== null) {
    const ns = m[1].split(',').map((s) => Number(s.trim()));
    if (!ns.every((n) => byN.has(n))) continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    for (const n of ns) out.push(citeButton(byN.get(n), open));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function citeButton(c, open) {
  const b = h('button', { type: 'button', class: 'cite', 'aria-haspopup': 'dialog',
                          'aria-label': `Source ${c.n}: ${c.doc_id}`, dataset: { n: String(c.n) },
                          onclick: () => open(c, b) }, `[${c.n}]`);
  return b;
}

// answer: text; citations: [{n, doc_id, chunk_id, score, snippet}]; source: {dataset,
// idColumn} of the index (for the Explore link). Returns an element holding the answer,
// the list and the dialog.
export function citedAnswer(answer, citations, source) {
  const byN = new Map((citations || []).map((c) => [c.n, c]));
  const dialog = h('dialog', { class: 'cite-dialog', 'aria-labelledby': 'cite-dialog-title' });
  let opener = null;
  dialog.addEventListener('close', () => {
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
  // A click on the backdrop (outside the box) closes too.
  dialog.addEventListener('click', (ev) => { if (ev.target === dialog) dialog.close(); });

  function open(c, from) {
    opener = from;
    const href = sourceHref(source, c.doc_id);
    const close = h('button', { type: 'button', class: 'primary', onclick: () => dialog.close() }, 'Close');
    mount(dialog,
      h('div', { class: 'cite-dialog-body' },
        h('h2', { id: 'cite-dialog-title' }, `Source [${c.n}]`),
        h('blockquote', { class: 'cite-snippet' }, c.snippet || ''),
        h('dl', { class: 'kv' },
          h('dt', {}, 'Document'), h('dd', { class: 'mono' }, String(c.doc_id)),
          h('dt', {}, 'Chunk'), h('dd', {}, fmtNumber(c.chunk_id)),
          h('dt', {}, 'Score'), h('dd', {}, fmtScore(c.score))),
        h('div', { class: 'toolbar cite-dialog-actions' },
          href ? h('a', { class: 'button', href, onclick: () => dialog.close() }, 'Source row in Explore') : null,
          close)));
    if (!dialog.open) dialog.showModal();
    close.focus();
  }

  const paragraphs = String(answer || '').split(/\n{2,}/).filter((p) => p.trim());
  const list = h('ol', { class: 'cite-list' }, (citations || []).map((c) => h('li', { value: c.n },
    h('button', { type: 'button', class: 'cite', 'aria-haspopup': 'dialog', 'aria-label': `Open source ${c.n}`,
                  onclick: (ev) => open(c, ev.currentTarget) }, `[${c.n}]`),
    h('span', { class: 'cite-doc mono' }, String(c.doc_id)),
    h('span', { class: 'muted small' }, ` chunk ${c.chunk_id} · score ${fmtScore(c.score)}`),
    h('span', { class: 'cite-preview' }, c.snippet || ''))));

  return h('div', { class: 'cited-answer' },
    h('div', { class: 'answer-text', 'data-testid': 'answer' },
      paragraphs.length ? paragraphs.map((p) => h('p', {}, linkify(p, byN, open)))
                        : h('p', { class: 'muted' }, 'The answer is empty.')),
    citations && citations.length ? [h('h3', {}, 'Sources'), list] : h('p', { class: 'muted small' }, 'No sources cited.'),
    dialog);
}
