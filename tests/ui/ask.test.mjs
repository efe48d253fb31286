// Ask: without a generation model (Tables mode says so, Documents mode answers with
// extractive passages whose citations open the passage), and with the fake model server
// (NL->SQL with its editable SQL, table and bar chart; a generated RAG answer with
// citations; a failing model server shown as an error box).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startFakeModels, uiTest, closeBrowser, assertNoHorizontalScroll } from './lib/harness.mjs';

const STATES_SQL = 'SELECT state, count(*) AS n FROM jobs GROUP BY state ORDER BY n DESC, state';

let plain, gen, fake;
before(async () => {
  fake = await startFakeModels();
  [plain, gen] = await Promise.all([
    startServer({ demo: true }),
    startServer({ demo: true, env: { LAKEHOUSE_GENERATE_PROVIDER: 'ollama', LAKEHOUSE_GENERATE_MODEL: 'fake',
                                     LAKEHOUSE_GENERATE_URL: fake.url } }),
  ]);
  await fake.control({ script: [
    { match: 'jobs per state', reply: '```sql\n' + STATES_SQL + '\n```\nCounts the jobs of each state.' },
    { match: 'Question: who knows python', reply: 'Sofia knows Python [2] and Joseph does too [1].' },
    { match: 'Question: who works nights', reply: 'Sofia works nights [1] and so does Joseph, who also leads the team on the weekend shifts [2].' },
  ] });
});
after(async () => {
  await closeBrowser();
  await Promise.all([plain.stop(), gen.stop()]);
  await fake.stop();
});

const plainServer = { get url() { return plain.url; } };
const genServer = { get url() { return gen.url; } };

async function post(url, path, body) {
  const r = await fetch(url + path, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                      body: JSON.stringify(body) });
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return r.json();
}

const tableRows = (page) => page.locator('table.data[aria-label="Answer rows"] tbody tr').evaluateAll(
  (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));

uiTest('without a model: Tables says so, Documents answers with citations that open the passage', plainServer, async ({ page, url }) => {
  const rag = [];
  page.on('request', (r) => { if (r.url().endsWith('/vectors/rag')) rag.push(r.postDataJSON()); });
  await page.goto(url + '/#/ask');
  // No generation model: Documents is the default; Tables says why it cannot answer.
  await assert.doesNotReject(page.getByRole('radio', { name: /Documents/ }).and(page.locator(':checked')).waitFor());
  await page.getByRole('radio', { name: /Tables/ }).check();
  await assert.doesNotReject(page.getByTestId('no-model').filter({ hasText: 'No generation model is configured' }).waitFor());
  assert.match(await page.getByTestId('no-model').textContent(), /\[generate\].*lakehouse\.toml.*Documents mode still answers/s);
  await page.getByRole('radio', { name: /Documents/ }).check();
  assert.equal(await page.getByTestId('no-model').count(), 0);
  assert.equal(await page.locator('#ask-index').inputValue(), 'resumes');

  await page.getByLabel('Your question').fill('who knows python?');
  await page.getByLabel('Your question').press('Enter');
  await page.locator('.answer-text button.cite').first().waitFor();
  assert.deepEqual(rag, [{ index: 'resumes', question: 'who knows python?', k: 5 }], 'asked once');
  assert.match(page.url(), /#\/ask\?q=who\+knows\+python%3F&mode=documents&index=resumes$/);

  const api = await post(url, '/vectors/rag', { index: 'resumes', question: 'who knows python?', k: 5 });
  assert.equal(api.mode, 'extractive');
  assert.equal(await page.locator('.answer-text button.cite').count(), (api.answer.match(/\[\d+\]/g) || []).length);
  assert.equal(await page.locator('.cite-list li').count(), api.citations.length);
  await assert.doesNotReject(page.locator('.ask-docs .badge').filter({ hasText: 'extractive' }).waitFor());

  const one = page.locator('.answer-text button.cite[data-n="1"]');
  await one.click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.equal(await dialog.locator('.cite-snippet').textContent(), api.citations[0].snippet);
  assert.equal(await dialog.getByRole('link', { name: 'Source row in Explore' }).getAttribute('href'),
    `#/explore/resumes?key=candidate_id&value=${api.citations[0].doc_id}`);
  assert.match(await dialog.locator('dl').textContent(), new RegExp(`Document${api.citations[0].doc_id}Chunk0`));
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await one.evaluate((b) => b === document.activeElement), true, 'focus back on [1]');

  // The list's buttons open the same dialog; Close closes it.
  await page.locator('.cite-list button.cite').nth(1).click();
  assert.equal(await dialog.locator('.cite-snippet').textContent(), api.citations[1].snippet);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'hidden' });

  // A linked question runs (once) after a reload.
  await page.reload();
  await page.locator('.answer-text button.cite').first().waitFor();
  assert.equal(rag.length, 2);
  assert.equal(await page.getByLabel('Your question').inputValue(), 'who knows python?');
});

uiTest('tables: the generated SQL, its rows, a bar chart; edited SQL runs again', genServer, async ({ page, url }) => {
  await page.goto(url + '/#/ask');
  await assert.doesNotReject(page.getByRole('radio', { name: /Tables/ }).and(page.locator(':checked')).waitFor());
  await page.getByLabel('Your question').fill('jobs per state');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  const editor = page.getByLabel('Generated SQL');
  await editor.waitFor();
  assert.equal(await editor.inputValue(), STATES_SQL);
  assert.match(await page.locator('.ask-explanation').textContent(), /Counts the jobs of each state/);
  assert.match(await page.locator('.ask-facts').first().textContent(), /model fake · 1 attempt/);

  const expected = await post(url, '/query/sql', { sql: STATES_SQL });
  const rows = await tableRows(page);
  assert.deepEqual(rows, expected.rows.map((r) => r.map(String)));
  const bars = await page.locator('svg.chart .chart-bar').evaluateAll(
    (gs) => gs.map((g) => [g.dataset.label, Number(g.dataset.value)]));
  assert.equal(bars.length, Math.min(20, expected.rows.length));
  assert.deepEqual(new Set(bars.map((b) => b[0])), new Set(expected.rows.map((r) => r[0])));
  for (const [state, n] of bars) assert.equal(n, expected.rows.find((r) => r[0] === state)[1]);
  assert.equal(await page.locator('svg.chart').getAttribute('width'), '100%');
  assert.equal(await page.getByRole('link', { name: 'Open in SQL' }).getAttribute('href'),
    '#/sql?' + new URLSearchParams({ q: STATES_SQL }).toString());

  // Edit and run again (the button here, Ctrl+Enter below).
  await editor.fill(STATES_SQL + ' LIMIT 3');
  await page.getByRole('button', { name: 'Run again' }).click();
  await assert.doesNotReject(page.getByTestId('row-count').filter({ hasText: /^3 rows/ }).waitFor());
  assert.deepEqual(await tableRows(page), expected.rows.slice(0, 3).map((r) => r.map(String)));
  assert.equal(await page.locator('svg.chart .chart-bar').count(), 3);
  assert.match(await page.getByRole('link', { name: 'Open in SQL' }).getAttribute('href'), /LIMIT\+3$/);

  // An SQL error of Run again: an error box, and the editor marks the spot.
  await editor.fill('SELECT state, count(*) AS n FROM jobz GROUP BY state');
  await editor.press('Control+Enter');
  await assert.doesNotReject(page.locator('.ask-rows .error-box').filter({ hasText: 'sql_error' }).waitFor());
  assert.equal(await page.locator('.editor .tok-err').textContent(), 'jobz');
}, { allowConsole: [/status of 400/] });

uiTest('tables answer fits a phone-width window', genServer, async ({ page, url }) => {
  await page.goto(url + '/#/ask?q=jobs%20per%20state&mode=tables');
  await page.locator('svg.chart').waitFor();
  await assertNoHorizontalScroll(page);
}, { viewport: { width: 390, height: 800 } });

uiTest('documents with a model: a generated answer with clickable citations', genServer, async ({ page, url }) => {
  await page.goto(url + '/#/ask?mode=documents');
  await page.getByLabel('Your question').fill('who knows python?');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  await page.locator('.answer-text button.cite').first().waitFor();
  const api = await post(url, '/vectors/rag', { index: 'resumes', question: 'who knows python?', k: 5 });
  assert.equal(api.mode, 'generative');
  assert.equal(api.answer, 'Sofia knows Python [1] and Joseph does too [2].');
  assert.equal(await page.getByTestId('answer').textContent(), api.answer);
  assert.deepEqual(await page.locator('.answer-text button.cite').allTextContents(), ['[1]', '[2]']);
  await assert.doesNotReject(page.locator('.ask-docs .badge').filter({ hasText: 'generated' }).waitFor());
  assert.match(await page.locator('.ask-docs').textContent(), /model fake/);
  await page.locator('.answer-text button.cite[data-n="2"]').click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.equal(await dialog.locator('.cite-snippet').textContent(), api.citations[1].snippet);
  assert.equal(await dialog.getByRole('link', { name: 'Source row in Explore' }).getAttribute('href'),
    `#/explore/resumes?key=candidate_id&value=${api.citations[1].doc_id}`);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
});

uiTest('a generated answer streams as it is written, and Stop ends it', genServer, async ({ page, url }) => {
  await fake.control({ token_delay_ms: 150 });
  try {
    await page.goto(url + '/#/ask?mode=documents');
    await page.getByLabel('Your question').fill('who works nights?');
    await page.getByRole('button', { name: 'Ask', exact: true }).click();
    // Words show before the answer is complete (the final answer replaces the live text).
    const live = page.getByTestId('live');
    await page.waitForFunction(() => /Sofia works/.test(document.querySelector('[data-testid="live"]')?.textContent || ''));
    assert.equal(await page.locator('.answer-text').count(), 0);
    assert.doesNotMatch(await live.textContent(), /weekend shifts/);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByText('Stopped. Ask again to get a full answer.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Ask', exact: true }).isEnabled(), true);
    // Asked again and left to finish: the checked answer with its citations.
    await page.getByRole('button', { name: 'Ask', exact: true }).click();
    await page.locator('.answer-text button.cite').first().waitFor({ timeout: 30000 });
    assert.match(await page.getByTestId('answer').textContent(), /weekend shifts \[2\]\.$/);
  } finally {
    await fake.control({ token_delay_ms: 0 });
  }
}, { timeout: 90000 });

uiTest('a failing model server is a readable error', genServer, async ({ page, url }) => {
  await page.goto(url + '/#/ask');
  await page.getByLabel('Your question').fill('jobs per state');
  await fake.control({ fail_next: 5, status: 500 });   // every attempt of the server's client
  await page.getByLabel('Your question').press('Enter');
  const box = page.locator('.ask-result .error-box');
  await box.waitFor({ timeout: 20000 });
  assert.match(await box.textContent(), /Answering from the tables failed.*upstream_error.*500/s);
  assert.equal(await page.getByRole('button', { name: 'Ask', exact: true }).isEnabled(), true);
}, { allowConsole: [/status of 502/] });
