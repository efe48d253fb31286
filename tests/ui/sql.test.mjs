// The SQL view against the demo data: run with Ctrl+Enter and compare the table with what the
// API returns, sort and page it, export CSV and Parquet (the downloaded files' content),
// syntax and permission errors (message, position, the mark in the editor), the history
// across a reload, #/sql?q= links, the table list inserting names, and the narrow layout.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startServer, uiTest, closeBrowser, assertNoHorizontalScroll } from './lib/harness.mjs';

let srv;
before(async () => { srv = await startServer({ demo: true }); });
after(async () => { await closeBrowser(); await srv.stop(); });

const server = { get url() { return srv.url; } };

async function apiSql(sql, limit = 10000) {
  const r = await fetch(srv.url + '/query/sql', { method: 'POST', body: JSON.stringify({ sql, limit }),
    headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

const editor = (page) => page.locator('.sql-editor-panel textarea');
const rowRange = (page) => page.getByTestId('row-range');
const headerNames = (page) => page.locator('.sql-result table.data thead .th-name').allTextContents();
const column = (page, i) => page.locator(`.sql-result table.data tbody tr td:nth-child(${i})`).allTextContents();

// Types sql into the editor and runs it with Ctrl+Enter; resolves the request's JSON body.
async function runSql(page, sql) {
  await editor(page).fill(sql);
  const req = page.waitForRequest((r) => r.url().endsWith('/query/sql') && r.method() === 'POST');
  await editor(page).press('Control+Enter');
  return (await req).postDataJSON();
}

uiTest('runs a query with Ctrl+Enter, sorts and pages the result', server, async ({ page, url }) => {
  await page.goto(url + '/#/sql');
  const q = 'SELECT title, count(*) AS n FROM jobs GROUP BY title ORDER BY n DESC, title';
  const expected = await apiSql(q);
  const body = await runSql(page, q);
  assert.deepEqual(body, { sql: q, limit: 10000 });
  await page.locator('.sql-count', { hasText: `${expected.row_count} rows` }).waitFor();
  assert.match(await page.locator('.sql-status').textContent(), /\d+(\.\d+)? m?s/);
  assert.deepEqual(await headerNames(page), ['title', 'n']);
  const first = page.locator('.sql-result tbody tr').first().locator('td');
  assert.deepEqual(await first.allTextContents(), expected.rows[0].map(String));
  assert.equal(await page.locator('.sql-result tbody tr').count(), expected.row_count);

  // n ascending, then descending; title alphabetically.
  const ns = expected.rows.map((r) => String(r[1]));
  await page.getByRole('button', { name: /^n\b/ }).click();
  assert.equal(await page.locator('th[aria-sort="ascending"] .th-name').textContent(), 'n');
  assert.deepEqual(await column(page, 2), ns.slice().sort((a, b) => a - b));
  await page.getByRole('button', { name: /^n\b/ }).click();
  assert.deepEqual(await column(page, 2), ns.slice().sort((a, b) => b - a));
  await page.getByRole('button', { name: /^title\b/ }).click();
  assert.deepEqual(await column(page, 1), expected.rows.map((r) => r[0]).sort((a, b) => a.localeCompare(b)));

  // Paging: 500 candidates, 50 a page.
  await runSql(page, 'SELECT * FROM candidates ORDER BY candidate_id');
  await rowRange(page).filter({ hasText: 'rows 1–50 of 500' }).waitFor();
  assert.equal(await page.locator('.sql-result tbody tr').count(), 50);
  assert.equal(await page.locator('.sql-result tbody tr td').first().textContent(), '1');
  await page.getByRole('button', { name: 'Next page' }).click();
  await rowRange(page).filter({ hasText: 'rows 51–100 of 500' }).waitFor();
  assert.equal(await page.locator('.sql-result tbody tr td').first().textContent(), '51');
  assert.equal(await page.locator('.sql-truncated').count(), 0);
});

uiTest('exports the whole result as CSV and as Parquet', server, async ({ page, url }) => {
  await page.goto(url + '/#/sql');
  const q = 'SELECT job_id, title, salary_min FROM jobs ORDER BY job_id';
  await editor(page).fill(q);

  const req = page.waitForRequest((r) => r.url().endsWith('/query/sql'));
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const sent = await req;
  assert.equal(sent.headers().accept, 'text/csv');
  assert.deepEqual(sent.postDataJSON(), { sql: q });   // no limit: every row
  assert.equal(csv.suggestedFilename(), 'result.csv');
  const lines = (await readFile(await csv.path(), 'utf8')).trimEnd().split(/\r?\n/);
  assert.equal(lines[0], 'job_id,title,salary_min');
  assert.equal(lines.length, 1 + 300);
  const expected = await apiSql(q);
  assert.equal(lines[1], expected.rows[0].map((v) => (/[",]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : v)).join(','));
  await page.locator('.sql-export-msg', { hasText: 'Saved result.csv' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Export CSV' }).isEnabled(), true);

  const [pq] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export Parquet' }).click()]);
  assert.equal(pq.suggestedFilename(), 'result.parquet');
  const bytes = await readFile(await pq.path());
  assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PAR1');
  assert.equal(bytes.subarray(bytes.length - 4).toString('latin1'), 'PAR1');

  // A failing export says so next to the buttons.
  await editor(page).fill('SELECT nope FROM jobs');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const box = page.locator('.sql-export-msg .error-box');
  await box.waitFor();
  assert.match(await box.textContent(), /Export CSV failed.*sql_error.*nope/s);
}, { allowConsole: [/status of 400/] });

uiTest('shows a syntax error with its position and marks it in the editor', server, async ({ page, url }) => {
  await page.goto(url + '/#/sql');
  await runSql(page, 'SELECT * FORM jobs');
  const box = page.locator('.sql-result .error-box');
  await box.waitFor();
  const text = await box.textContent();
  assert.match(text, /Running the query failed/);
  assert.match(text, /sql_error/);
  assert.match(text, /line 1, column 15/);
  assert.match(text, /syntax error at or near "jobs"/);
  assert.equal(await page.locator('.editor .tok-err').textContent(), 'jobs');
  const sel = await editor(page).evaluate((ta) => [document.activeElement === ta, ta.selectionStart, ta.selectionEnd]);
  assert.deepEqual(sel, [true, 14, 14]);
  // Typing clears the mark.
  await editor(page).press('End');
  await editor(page).pressSequentially(' ');
  assert.equal(await page.locator('.editor .tok-err').count(), 0);

  // A write is refused with the server's reason and what this view accepts.
  await runSql(page, 'DROP TABLE jobs');
  await box.filter({ hasText: 'forbidden' }).waitFor();
  assert.match(await box.textContent(), /only read statements are allowed: got DROP.*read-only statements/s);
  assert.equal(await page.locator('.editor .tok-err').count(), 0);

  // A timeout (faked: the demo queries are too quick) reads as a sentence, not a blank.
  await page.route('**/query/sql', (route) => route.fulfill({ status: 503, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'timeout', message: 'the query ran past its deadline', request_id: 'r-99' } }) }));
  await runSql(page, 'SELECT * FROM jobs');
  await box.filter({ hasText: 'timeout' }).waitFor();
  assert.match(await box.textContent(), /the query ran past its deadline.*time limit.*WHERE or LIMIT.*request r-99/s);
}, { allowConsole: [/status of 400/, /status of 403/, /status of 503/] });

uiTest('keeps a history across reloads, newest first', server, async ({ page, url }) => {
  await page.goto(url + '/#/sql');
  await runSql(page, 'SELECT 1 AS a');
  await page.locator('.sql-count', { hasText: '1 row' }).waitFor();
  await runSql(page, 'SELECT 2 AS b, 3 AS c');
  await page.locator('.sql-result th', { hasText: 'c' }).waitFor();
  await page.reload();
  const items = page.locator('.sql-history-item');
  await items.nth(1).waitFor();
  assert.deepEqual(await page.locator('.sql-history-sql').allTextContents(), ['SELECT 2 AS b, 3 AS c', 'SELECT 1 AS a']);
  assert.match(await items.nth(0).textContent(), /ago · 1 row · /);
  await items.nth(1).click();
  assert.equal(await editor(page).inputValue(), 'SELECT 1 AS a');
  // Running it again moves it to the top instead of adding it twice.
  await editor(page).press('Control+Enter');
  await page.locator('.sql-history-sql').first().filter({ hasText: 'SELECT 1 AS a' }).waitFor();
  assert.equal(await items.count(), 2);
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('lh.sql.history')));
  assert.deepEqual(stored.map((e) => e.sql), ['SELECT 1 AS a', 'SELECT 2 AS b, 3 AS c']);
  await page.getByRole('button', { name: 'Clear history' }).click();
  assert.equal(await items.count(), 0);
  assert.equal(await page.evaluate(() => localStorage.getItem('lh.sql.history')), '[]');
});

uiTest('#/sql?q= prefills the editor and runs it; table names insert at the cursor', server, async ({ page, url }) => {
  const q = 'SELECT count(*) AS c FROM clients';
  await page.goto(url + '/#/sql?q=' + encodeURIComponent(q));
  await page.locator('.sql-result').getByRole('cell', { name: '60', exact: true }).waitFor();
  assert.equal(await editor(page).inputValue(), q);
  assert.deepEqual(await headerNames(page), ['c']);

  await editor(page).fill('SELECT  FROM ');
  await editor(page).evaluate((ta) => ta.setSelectionRange(7, 7));
  await page.getByRole('button', { name: 'Columns of jobs' }).click();
  await page.locator('.sql-cols:not(.hidden)').getByRole('button', { name: 'title', exact: true }).click();
  await editor(page).press('End');
  await page.locator('.sql-table-name', { hasText: 'jobs' }).click();
  assert.equal(await editor(page).inputValue(), 'SELECT title FROM jobs');
  await editor(page).press('Control+Enter');
  await rowRange(page).filter({ hasText: 'of 300' }).waitFor();
});

uiTest('keeps the last result while a query runs, and cancels it', server, async ({ page, url }) => {
  await page.goto(url + '/#/sql');
  await runSql(page, 'SELECT count(*) AS c FROM resumes');
  await page.locator('.sql-result').getByRole('cell', { name: '500', exact: true }).waitFor();
  // Hold the next query at the network so it is still running while we look.
  let held;
  const arrived = new Promise((r) => { held = r; });
  await page.route('**/query/sql', (route) => held(route));
  await runSql(page, 'SELECT count(*) AS c FROM jobs');
  const route = await arrived;
  await page.locator('.sql-status .spinner').waitFor();
  assert.equal(await page.locator('.sql-result.is-stale').getByRole('cell', { name: '500', exact: true }).count(), 1);
  assert.equal(await page.getByRole('button', { name: 'Run' }).isDisabled(), true);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator('.sql-status', { hasText: 'cancelled' }).waitFor();
  assert.equal(await page.locator('.sql-result:not(.is-stale)').getByRole('cell', { name: '500', exact: true }).count(), 1);
  assert.equal(await page.getByRole('button', { name: 'Cancel' }).isVisible(), false);
  await route.abort().catch(() => {});   // already cancelled by the page
  await page.unroute('**/query/sql');
  await editor(page).press('Control+Enter');
  await page.locator('.sql-result').getByRole('cell', { name: '300', exact: true }).waitFor();
});

uiTest('fits a 390px window and is keyboard reachable', server, async ({ page, url }) => {
  await page.goto(url + '/#/sql?q=' + encodeURIComponent('SELECT * FROM candidates ORDER BY candidate_id'));
  await rowRange(page).filter({ hasText: 'of 500' }).waitFor();
  await page.locator('.sql-table-name').first().waitFor();
  await assertNoHorizontalScroll(page);
  await editor(page).fill('SELECT count(*) AS k FROM placements');
  await editor(page).focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Run');
  await page.keyboard.press('Enter');
  await page.locator('.sql-result').getByRole('cell', { name: '200', exact: true }).waitFor();
  await assertNoHorizontalScroll(page);
}, { viewport: { width: 390, height: 800 } });
