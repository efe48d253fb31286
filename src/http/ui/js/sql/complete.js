// What the SQL editor offers while a name is typed (createEditor's `complete` option): the
// catalog's tables and their columns (from GET /catalog/datasets), SQL keywords and the
// DuckDB functions people reach for most. After "tbl." (or "alias." for "FROM jobs j") only
// that table's columns are offered; otherwise columns of the tables the query already names
// come first, since those are the ones it can use. The editor does the prefix/substring
// filtering, keeping the order given here within each group.
import { sqlName } from './tables.js';

const KEYWORDS = `SELECT FROM WHERE GROUP_BY ORDER_BY HAVING LIMIT OFFSET AS AND OR NOT IN IS NULL LIKE
ILIKE BETWEEN CASE WHEN THEN ELSE END JOIN LEFT_JOIN INNER_JOIN ON USING UNION ALL DISTINCT WITH
ASC DESC NULLS_LAST EXISTS CAST TRUE FALSE DESCRIBE SUMMARIZE SHOW EXPLAIN OVER PARTITION_BY
FILTER QUALIFY INTERVAL DATE TIMESTAMP VARCHAR INTEGER BIGINT DOUBLE BOOLEAN`
  .split(/\s+/).map((k) => k.replace('_', ' '));
const KEYWORD_SET = new Set(KEYWORDS.map((k) => k.toLowerCase().split(' ')[0]));

const FUNCTIONS = [
  ['count', 'count(x) · rows'], ['sum', 'sum(x)'], ['avg', 'avg(x)'], ['min', 'min(x)'], ['max', 'max(x)'],
  ['median', 'median(x)'], ['approx_count_distinct', 'approx_count_distinct(x)'],
  ['string_agg', 'string_agg(x, sep)'], ['list', 'list(x)'], ['date_trunc', "date_trunc('month', ts)"],
  ['date_part', "date_part('year', ts)"], ['strftime', "strftime(ts, '%Y-%m-%d')"], ['strptime', 'strptime(text, format)'],
  ['now', 'now()'], ['current_date', 'current_date'], ['lower', 'lower(text)'], ['upper', 'upper(text)'],
  ['length', 'length(text)'], ['trim', 'trim(text)'], ['substr', 'substr(text, start, len)'],
  ['replace', 'replace(text, from, to)'], ['concat', 'concat(a, b, ...)'], ['regexp_matches', 'regexp_matches(text, re)'],
  ['coalesce', 'coalesce(a, b, ...)'], ['nullif', 'nullif(a, b)'], ['round', 'round(x, digits)'], ['abs', 'abs(x)'],
  ['vector_search', "vector_search('index', 'text', k)"],
];

// Words that can follow a table name without being its alias ("FROM jobs WHERE ...").
const NOT_ALIAS = new Set(`where group order having limit offset join left right full inner outer cross
natural on using union intersect except window qualify as and or not select from with lateral
asof semi anti positional sample tablesample pivot unpivot`.split(/\s+/));

const lower = (s) => s.toLowerCase();
const unquote = (s) => (s.startsWith('"') ? s.slice(1, -1).replaceAll('""', '"') : s);
const NAME = /"(?:[^"]|"")+"|[A-Za-z_][\w$]*/.source;

// {alias (lowercase) -> dataset} for "FROM jobs j", "JOIN jobs AS j", "FROM jobs j, clients c".
function aliases(text, byName) {
  const out = new Map();
  const re = new RegExp(`(?:\\bfrom|\\bjoin|,)\\s+(${NAME})(?:\\s+(?:as\\s+)?([A-Za-z_][\\w$]*))?`, 'gi');
  for (const m of text.matchAll(re)) {
    const ds = byName.get(lower(unquote(m[1])));
    if (ds && m[2] && !NOT_ALIAS.has(lower(m[2]))) out.set(lower(m[2]), ds);
  }
  return out;
}

// datasets: GET /catalog/datasets' list. Returns complete(ctx) -> [{label, detail, kind, insert}].
export function catalogCompleter(datasets) {
  const list = (datasets || []).filter((d) => d && typeof d.name === 'string');
  const byName = new Map(list.map((d) => [lower(d.name), d]));
  const columnItems = (ds) => (ds.columns || []).map((c) => ({
    label: c.name, detail: `${c.type || ''} · ${ds.name}`, kind: 'column', insert: sqlName(c.name) }));
  const tableItems = list.map((d) => ({
    label: d.name, detail: typeof d.row_count === 'number' ? `table · ${d.row_count} rows` : 'table',
    kind: 'table', insert: sqlName(d.name) }));
  const keywordItems = KEYWORDS.map((k) => ({ label: k, detail: 'keyword', kind: 'keyword', insert: k }));
  const functionItems = FUNCTIONS.map(([name, sig]) => ({ label: name, detail: sig, kind: 'function', insert: name + '(' }));

  return function complete(ctx) {
    const text = ctx.text || '';
    if (ctx.qualifier != null) {
      const q = lower(ctx.qualifier);
      const ds = byName.get(q) || aliases(text, byName).get(q);
      return ds ? columnItems(ds) : [];
    }
    const start = ctx.cursor - ctx.prefix.length;
    const head = text.slice(0, start);
    // A new name is being made up ("AS n"): nothing to offer, and Enter must stay a newline.
    if (/\bas\s+$/i.test(head)) return [];
    // Right after "FROM jobs " comes an alias or the next clause: only keywords.
    const afterTable = new RegExp(`\\b(?:from|join)\\s+(${NAME})\\s+$`, 'i').exec(head);
    if (afterTable && !KEYWORD_SET.has(lower(afterTable[1]))) return keywordItems;
    // The tables the query names and the aliases it defines, leaving out the word being typed.
    const rest = head + ' ' + text.slice(ctx.cursor);
    const named = new Set();
    for (const m of rest.matchAll(new RegExp(NAME, 'g'))) {
      const ds = byName.get(lower(unquote(m[0])));
      if (ds) named.add(ds);
    }
    const seen = new Set();
    const defined = [];
    for (const m of rest.matchAll(/\bas\s+([A-Za-z_][\w$]*)/gi)) {
      if (seen.has(lower(m[1])) || KEYWORD_SET.has(lower(m[1]))) continue;
      seen.add(lower(m[1]));
      defined.push({ label: m[1], detail: 'alias', kind: 'column', insert: m[1] });
    }
    const near = [], far = [];
    for (const ds of [...named, ...list.filter((d) => !named.has(d))]) {
      for (const it of columnItems(ds)) {
        if (seen.has(lower(it.label))) continue;   // one entry per name, from a named table first
        seen.add(lower(it.label));
        (named.has(ds) ? near : far).push(it);
      }
    }
    // Right after FROM / JOIN a table is wanted; elsewhere the query's own columns are.
    const afterFrom = /\b(from|join|describe|summarize|table|into)\s+$/i.test(head);
    return afterFrom
      ? [...tableItems, ...near, ...functionItems, ...keywordItems, ...far]
      : [...near, ...defined, ...tableItems, ...functionItems, ...keywordItems, ...far];
  };
}
