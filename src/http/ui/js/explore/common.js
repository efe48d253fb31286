// Small pieces the Explore list and the dataset page both show: the PII badge, the tag
// badges, and the test for a request we cancelled ourselves (leaving the page aborts them,
// and a cancelled load must not paint an error box over the next view).
import { h, badge } from '../dom.js';

// Columns holding personal data: the detector's kind (pii) says so.
export function piiColumns(columns) {
  return (columns || []).filter((c) => c.pii);
}

export function piiBadge(columns) {
  const pii = piiColumns(columns);
  if (!pii.length) return null;
  const b = badge(`PII · ${pii.length} column${pii.length === 1 ? '' : 's'}`, 'warn');
  b.title = 'personal data in: ' + pii.map((c) => `${c.name} (${c.pii})`).join(', ');
  b.classList.add('pii-badge');
  return b;
}

export function tagBadges(tags) {
  if (!tags || !tags.length) return null;
  return h('span', { class: 'badges tags', 'aria-label': 'tags' },
    tags.map((t) => h('span', { class: 'badge badge-tag' }, t)));
}

export function isAbort(err) {
  return !!(err && (err.aborted || err.name === 'AbortError'));
}
