// The Metadata tab: a form over what people keep about a dataset (description, owner,
// sensitivity, tags, expected freshness, per column a description and the sensitive flag).
// Save sends PATCH .../metadata with only the members that changed (an emptied field is
// null, which clears it), so two people editing different fields do not undo each other.
// A refused change (400) is shown in the form and what was typed stays.
import { api } from '../api.js';
import { h, mount, errorBox, toast } from '../dom.js';
import { isAbort } from './common.js';

const SENSITIVITIES = ['public', 'internal', 'confidential', 'restricted'];
const UNITS = { hours: 3600, days: 86400 };

// ds: the dataset as GET by-name answers; onSaved(dataset) after a successful save.
export function metadataForm(ds, { signal, onSaved }) {
  const uid = (s) => `md-${s}`;
  const desc = h('textarea', { id: uid('description'), rows: 3, maxlength: 4096, value: ds.description || '' });
  const owner = h('input', { type: 'text', id: uid('owner'), maxlength: 256, value: ds.owner || '', autocomplete: 'off' });
  const sens = h('select', { id: uid('sensitivity') },
    h('option', { value: '', selected: !ds.sensitivity }, 'none'),
    SENSITIVITIES.map((s) => h('option', { value: s, selected: ds.sensitivity === s }, s)));
  const tags = h('input', { type: 'text', id: uid('tags'), value: (ds.tags || []).join(', '),
                            placeholder: 'e.g. sales, daily', autocomplete: 'off' });
  const maxAge = ds.freshness && ds.freshness.max_age_s;
  const unitNow = maxAge && maxAge % UNITS.days === 0 ? 'days' : 'hours';
  const age = h('input', { type: 'number', id: uid('age'), min: '0', step: 'any', class: 'age',
                           value: maxAge ? String(maxAge / UNITS[unitNow]) : '', placeholder: 'none' });
  const unit = h('select', { id: uid('unit'), 'aria-label': 'Freshness unit' },
    Object.keys(UNITS).map((u) => h('option', { value: u, selected: u === unitNow }, u)));

  const colRows = (ds.columns || []).map((c, i) => {
    const d = h('input', { type: 'text', id: uid(`col-${i}-desc`), value: c.description || '',
                           'aria-label': `Description of ${c.name}`, placeholder: 'description', dataset: { column: c.name } });
    const s = h('input', { type: 'checkbox', id: uid(`col-${i}-sens`), checked: !!c.sensitive });
    return { c, d, s, el: h('div', { class: 'md-col', dataset: { column: c.name } },
      h('span', { class: 'md-col-name mono' }, c.name, c.pii ? h('span', { class: 'muted small' }, ` · ${c.pii}`) : null),
      d,
      h('label', { class: 'md-check', for: uid(`col-${i}-sens`) }, s, 'sensitive')) };
  });

  const errSlot = h('div', { class: 'md-error', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
  const form = h('form', { class: 'md-form', novalidate: true },
    h('h2', {}, 'Metadata'),
    h('label', { class: 'field', for: uid('description') }, 'Description', desc),
    h('div', { class: 'md-grid' },
      h('label', { class: 'field', for: uid('owner') }, 'Owner', owner),
      h('label', { class: 'field', for: uid('sensitivity') }, 'Sensitivity', sens),
      h('label', { class: 'field', for: uid('tags') }, 'Tags (comma-separated)', tags),
      h('div', { class: 'field' },
        h('label', { for: uid('age') }, 'Expected update every'),
        h('div', { class: 'row md-age' }, age, unit))),
    colRows.length ? h('fieldset', { class: 'md-cols' },
      h('legend', {}, 'Columns'),
      colRows.map((r) => r.el)) : null,
    errSlot,
    h('div', { class: 'toolbar' }, save,
      h('button', { type: 'button', onclick: () => form.replaceWith(metadataForm(ds, { signal, onSaved })) }, 'Undo changes')));

  // The PATCH body: only what differs from ds; '' and [] become null (clear).
  function changes() {
    const body = {};
    const text = (el) => (el.value.trim() === '' ? null : el.value.trim());
    if (text(desc) !== (ds.description ?? null)) body.description = text(desc);
    if (text(owner) !== (ds.owner ?? null)) body.owner = text(owner);
    if ((sens.value || null) !== (ds.sensitivity ?? null)) body.sensitivity = sens.value || null;
    const t = tags.value.split(',').map((x) => x.trim()).filter(Boolean);
    if (JSON.stringify(t) !== JSON.stringify(ds.tags || [])) body.tags = t.length ? t : null;
    if (age.validity.badInput) throw new Error('the freshness is not a number');
    const secs = age.value === '' ? null : Math.round(Number(age.value) * UNITS[unit.value]);
    if (secs !== (maxAge ?? null)) body.freshness = { max_age_s: secs };
    const cols = {};
    for (const { c, d, s } of colRows) {
      const m = {};
      if (text(d) !== (c.description ?? null)) m.description = text(d);
      if (s.checked !== !!c.sensitive) m.sensitive = s.checked;
      if (Object.keys(m).length) cols[c.name] = m;
    }
    if (Object.keys(cols).length) body.columns = cols;
    return body;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    mount(errSlot);
    let body;
    try {
      body = changes();
    } catch (e) {
      mount(errSlot, errorBox(e, 'Checking the form'));
      return;
    }
    if (!Object.keys(body).length) {
      mount(errSlot, h('p', { class: 'muted', role: 'status' }, 'Nothing changed.'));
      return;
    }
    save.disabled = true;
    try {
      const saved = await api(`/catalog/datasets/by-name/${encodeURIComponent(ds.name)}/metadata`,
                              { method: 'PATCH', body, signal });
      toast('Saved', 'ok');
      onSaved(saved);
    } catch (e) {
      if (!isAbort(e)) mount(errSlot, errorBox(e, 'Saving the metadata'));
    } finally {
      save.disabled = false;
    }
  });
  return form;
}
