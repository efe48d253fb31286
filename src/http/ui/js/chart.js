// A chart of a query result, drawn as plain SVG (no library): a horizontal bar chart when the
// result has a numeric column over a text category, a line chart over a date or timestamp
// column. chart(columns, rows, {width}) returns the <svg> or null when the result does not
// have that shape, so a caller just shows what it gets. The SVG's viewBox is `width` wide
// (callers pass the pixel width of the box it goes into) and it scales with width: 100%,
// so its text stays at the size it was drawn at; ask.css styles the .chart-* classes.
import { h, fmtNumber } from './dom.js';
import { isNumericType } from './table.js';

const TEXT = /^(VARCHAR|TEXT|STRING|CHAR|BPCHAR|ENUM.*|UUID)$/i;
const DATE = /^(DATE|TIMESTAMP.*)$/i;
const ID = /(^id$|_id$|^rank$)/i;   // numbers that name things rather than measure them
const MAX_BARS = 20;
const FONT = 12;

// Which columns to draw: the first text or date column as the label, the first numeric
// column that is not an identifier as the value. Null when there is no such pair.
export function chartShape(columns) {
  const li = columns.findIndex((c) => TEXT.test(c.type || '') || DATE.test(c.type || ''));
  const vi = columns.findIndex((c) => isNumericType(c.type) && !ID.test(c.name));
  if (li < 0 || vi < 0) return null;
  return { label: li, value: vi, kind: DATE.test(columns[li].type) ? 'line' : 'bar' };
}

// The points to draw, or null: one row per label (a result with repeated labels is a list
// of records, not a series, and a chart of it would mislead), finite values only.
function points(rows, shape) {
  const seen = new Set();
  const out = [];
  for (const r of rows) {
    const label = r[shape.label], v = Number(r[shape.value]);
    if (label === null || label === undefined || r[shape.value] === null || !Number.isFinite(v)) continue;
    const key = String(label);
    if (seen.has(key)) return null;
    seen.add(key);
    out.push({ label: key, value: v });
  }
  return out;
}

// About `count` round tick values covering [lo, hi].
function ticks(lo, hi, count) {
  if (hi === lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  // Outer ticks: the axis ends on a round value at or past the data's ends.
  const out = [];
  const end = Math.ceil(hi / step - 1e-9) * step;
  for (let t = Math.floor(lo / step + 1e-9) * step; t <= end + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

function short(n) {
  const a = Math.abs(n);
  if (a >= 1e9) return +(n / 1e9).toFixed(1) + 'B';
  if (a >= 1e6) return +(n / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return +(n / 1e3).toFixed(1) + 'k';
  return fmtNumber(+n.toPrecision(6));
}

// Cuts text to about `px` pixels of FONT-size glyphs.
function fit(text, px) {
  const max = Math.max(3, Math.floor(px / (FONT * 0.6)));
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

const svg = (tag, props, ...kids) => h('svg:' + tag, props, ...kids);

function frame(width, height, title) {
  return svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, width: '100%',
                      preserveAspectRatio: 'xMinYMin meet', role: 'img', 'aria-label': title },
    svg('title', {}, title));
}

function barChart(columns, shape, pts, width) {
  const total = pts.length;
  pts = pts.slice().sort((a, b) => b.value - a.value).slice(0, MAX_BARS);
  const lname = columns[shape.label].name, vname = columns[shape.value].name;
  const title = `${vname} by ${lname}` + (total > pts.length ? ` (top ${pts.length} of ${total})` : '');
  const longest = Math.max(...pts.map((p) => p.label.length), lname.length);
  const labelW = Math.min(Math.round(width * 0.38), longest * FONT * 0.6 + 12);
  const valueW = Math.max(...pts.map((p) => short(p.value).length)) * FONT * 0.6 + 10;
  const top = 24, barH = 22, gap = 6, axisH = 34;
  const x0 = labelW, x1 = width - valueW;
  const height = top + pts.length * (barH + gap) + axisH;
  const lo = Math.min(0, ...pts.map((p) => p.value)), hi = Math.max(0, ...pts.map((p) => p.value));
  const tks = ticks(lo, hi, Math.max(2, Math.floor((x1 - x0) / 90)));
  const dlo = Math.min(lo, tks[0]), dhi = Math.max(hi, tks[tks.length - 1]);
  const sx = (v) => x0 + ((v - dlo) / (dhi - dlo || 1)) * (x1 - x0);
  const el = frame(width, height, title);
  const yEnd = top + pts.length * (barH + gap);
  el.append(svg('text', { class: 'chart-axis-title', x: 0, y: 14 }, fit(lname, labelW)));
  for (const t of tks) {
    el.append(svg('line', { class: 'chart-grid', x1: sx(t), x2: sx(t), y1: top - 4, y2: yEnd }),
      svg('text', { class: 'chart-tick', x: sx(t), y: yEnd + 14, 'text-anchor': 'middle' }, short(t)));
  }
  el.append(svg('text', { class: 'chart-axis-title', x: (x0 + x1) / 2, y: yEnd + 30, 'text-anchor': 'middle' }, vname));
  pts.forEach((p, i) => {
    const y = top + i * (barH + gap);
    const a = sx(Math.min(0, p.value)), b = sx(Math.max(0, p.value));
    el.append(svg('g', { class: 'chart-bar', 'data-label': p.label, 'data-value': p.value },
      svg('title', {}, `${p.label}: ${fmtNumber(p.value)}`),
      svg('text', { class: 'chart-label', x: x0 - 6, y: y + barH / 2 + 4, 'text-anchor': 'end' }, fit(p.label, labelW - 10)),
      svg('rect', { x: a, y, width: Math.max(1, b - a), height: barH, rx: 2 }),
      svg('text', { class: 'chart-value', x: b + 4, y: y + barH / 2 + 4 }, short(p.value))));
  });
  el.append(svg('line', { class: 'chart-axis', x1: sx(0), x2: sx(0), y1: top - 4, y2: yEnd }));
  return el;
}

function time(label) {
  // DuckDB writes timestamps as "2024-01-05 10:00:00"; ISO wants a T.
  const t = Date.parse(label.length > 10 ? label.replace(' ', 'T') : label);
  return Number.isFinite(t) ? t : NaN;
}

function lineChart(columns, shape, pts, width) {
  pts = pts.map((p) => ({ ...p, t: time(p.label) })).filter((p) => Number.isFinite(p.t));
  if (pts.length < 2) return null;
  pts.sort((a, b) => a.t - b.t);
  const lname = columns[shape.label].name, vname = columns[shape.value].name;
  const title = `${vname} over ${lname}`;
  const lo = Math.min(0, ...pts.map((p) => p.value)), hi = Math.max(...pts.map((p) => p.value));
  const yt = ticks(lo, hi, 4);
  const dlo = Math.min(lo, yt[0]), dhi = Math.max(hi, yt[yt.length - 1]);
  const left = Math.max(...yt.map((t) => short(t).length)) * FONT * 0.6 + 12;
  const right = 16, top = 24, plotH = Math.round(Math.min(280, Math.max(160, width * 0.4))), bottom = 40;
  const height = top + plotH + bottom;
  const t0 = pts[0].t, t1 = pts[pts.length - 1].t;
  const sx = (t) => left + ((t - t0) / (t1 - t0 || 1)) * (width - left - right);
  const sy = (v) => top + plotH - ((v - dlo) / (dhi - dlo || 1)) * plotH;
  const el = frame(width, height, title);
  el.append(svg('text', { class: 'chart-axis-title', x: 0, y: 14 }, vname));
  for (const t of yt) {
    el.append(svg('line', { class: 'chart-grid', x1: left, x2: width - right, y1: sy(t), y2: sy(t) }),
      svg('text', { class: 'chart-tick', x: left - 6, y: sy(t) + 4, 'text-anchor': 'end' }, short(t)));
  }
  // A few date labels: as many as fit side by side, first and last included.
  const n = Math.max(2, Math.min(pts.length, Math.floor((width - left - right) / 110)));
  const picked = new Set(Array.from({ length: n }, (_, i) => Math.round((i * (pts.length - 1)) / (n - 1))));
  for (const i of picked) {
    const p = pts[i];
    const anchor = i === 0 ? 'start' : i === pts.length - 1 ? 'end' : 'middle';
    el.append(svg('text', { class: 'chart-tick', x: sx(p.t), y: top + plotH + 16, 'text-anchor': anchor },
      p.label.replace(/ 00:00:00$/, '')));
  }
  el.append(svg('text', { class: 'chart-axis-title', x: (left + width - right) / 2, y: height - 4, 'text-anchor': 'middle' }, lname));
  el.append(svg('line', { class: 'chart-axis', x1: left, x2: width - right, y1: sy(Math.max(0, dlo)), y2: sy(Math.max(0, dlo)) }));
  el.append(svg('polyline', { class: 'chart-line', points: pts.map((p) => `${sx(p.t)},${sy(p.value)}`).join(' ') }));
  for (const p of pts)
    el.append(svg('circle', { class: 'chart-point', cx: sx(p.t), cy: sy(p.value), r: pts.length > 60 ? 2 : 3.5,
                              'data-label': p.label, 'data-value': p.value },
      svg('title', {}, `${p.label}: ${fmtNumber(p.value)}`)));
  return el;
}

// columns [{name, type}], rows [[...]] as POST /query/sql returns them. opts.width: the
// drawing's width in pixels (default 640). Returns an <svg> or null.
export function chart(columns, rows, opts = {}) {
  const shape = chartShape(columns || []);
  if (!shape || !rows || !rows.length) return null;
  const pts = points(rows, shape);
  if (!pts || !pts.length) return null;
  const width = Math.max(280, Math.round(opts.width || 640));
  return shape.kind === 'line' ? lineChart(columns, shape, pts, width) : barChart(columns, shape, pts, width);
}
