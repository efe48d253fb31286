// The SQL editor's autocompletion against the demo catalog: the list opens while a name is
// typed (tables first after FROM), Enter/Tab accept, "alias." offers that table's columns,
// arrows move the highlighted option (aria-activedescendant), Escape closes, Ctrl+Space
// opens it on demand, nothing opens inside a string; with the list closed, Enter and Tab
// keep their usual meaning; the list stays inside a 390px window; Ask's generated SQL
// completes the same way.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startFakeModels, uiTest, closeBrowser, assertNoHorizontalScroll } from './lib/harness.mjs';

const STATES_SQL = 'SELECT state, count(*) AS n FROM jobs GROUP BY state ORDER BY n DESC, state';

let srv, fake;
before(async () => {
  fake = await startFakeModels();
  srv = await startServer({ demo: true, env: { LAKEHOUSE_GENERATE_PROVIDER: 'ollama',
    LAKEHOUSE_GENERATE_MODEL: 'fake', LAKEHOUSE_GENERATE_URL: fake.url } });
  await fake.control({ script: [{ match: 'jobs per state', reply: '```sql\n' + STATES_SQL + '\n```' }] });
});
after(async () => { await closeBrowser(); await srv.stop(); await fake.stop(); });

const server = { get url() { return srv.url; } };

const editor = (page) => page.locator('.sql-editor-panel textarea');
const listbox = (page) => page.getByRole('listbox', { name: 'Completions' });
const labels = (page) => listbox(page).locator('.editor-ac-label').allTextContents();
const expanded = (page) => editor(page).getAttribute('aria-expanded');

// The SQL view with its table list loaded (the completion uses the same catalog list).
async function openSql(page, url) {
  await page.goto(url + '/#/sql');
  await page.locator('.sql-table-name', { hasText: 'jobs' }).waitFor();
  await editor(page).focus();
}

uiTest('completes a table name; Enter accepts without a newline; the result runs', server, async ({ page, url }) => {
  await openSql(page, url);
  assert.equal(await editor(page).getAttribute('aria-autocomplete'), 'list');
  assert.equal(await expanded(page), 'false');
  await editor(page).pressSequentially('SELECT * FROM jo');
  await listbox(page).waitFor();
  assert.equal(await expanded(page), 'true');
  const names = await labels(page);
  assert.equal(names[0], 'jobs');
  assert.ok(names.length <= 12);
  const first = listbox(page).getByRole('option').first();
  assert.equal(await first.getAttribute('aria-selected'), 'true');
  assert.equal(await editor(page).getAttribute('aria-activedescendant'), await first.getAttribute('id'));
  assert.equal(await editor(page).getAttribute('aria-controls'), await listbox(page).getAttribute('id'));

  await editor(page).press('Enter');
  assert.equal(await editor(page).inputValue(), 'SELECT * FROM jobs');
  await listbox(page).waitFor({ state: 'hidden' });
  assert.equal(await expanded(page), 'false');
  assert.equal(await editor(page).getAttribute('aria-activedescendant'), null);

  const req = page.waitForRequest((r) => r.url().endsWith('/query/sql'));
  await editor(page).press('Control+Enter');
  assert.equal((await req).postDataJSON().sql, 'SELECT * FROM jobs');
  await page.getByTestId('row-range').filter({ hasText: 'of 300' }).waitFor();
});

uiTest('"alias." offers that table\'s columns; arrows, Tab, Escape and a click', server, async ({ page, url }) => {
  await openSql(page, url);
  await editor(page).pressSequentially('SELECT  FROM jobs j');
  await editor(page).press('Escape');
  await editor(page).evaluate((ta) => ta.setSelectionRange(7, 7));
  await editor(page).pressSequentially('j.ti');
  await listbox(page).waitFor();
  const names = await labels(page);
  assert.equal(names[0], 'title');
  // Only jobs' columns: every option's detail names the jobs table.
  for (const d of await listbox(page).locator('.editor-ac-detail').allTextContents()) assert.match(d, /· jobs$/);

  // Right after "j." every column of jobs is offered (no prefix yet).
  await editor(page).press('Backspace');
  await editor(page).press('Backspace');
  await listbox(page).waitFor();
  const all = await labels(page);
  assert.ok(all.includes('title') && all.includes('job_id'), all.join(','));
  assert.ok(!all.includes('candidate_id'), 'a column of another table');

  // ArrowDown moves the highlighted option; Tab accepts it.
  const before = await editor(page).getAttribute('aria-activedescendant');
  await editor(page).press('ArrowDown');
  const after = await editor(page).getAttribute('aria-activedescendant');
  assert.notEqual(after, before);
  assert.equal(await page.locator('#' + after).getAttribute('aria-selected'), 'true');
  const second = await page.locator('#' + after + ' .editor-ac-label').textContent();
  await editor(page).press('Tab');
  assert.equal(await editor(page).inputValue(), `SELECT j.${second} FROM jobs j`);
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'TEXTAREA');

  // Escape closes; the next Enter is a newline again.
  await editor(page).pressSequentially(', j.sal');
  await listbox(page).waitFor();
  await editor(page).press('Escape');
  await listbox(page).waitFor({ state: 'hidden' });
  await editor(page).press('Enter');
  assert.equal(await editor(page).inputValue(), `SELECT j.${second}, j.sal\n FROM jobs j`);

  // A click on an option accepts it; typing filters first.
  await editor(page).pressSequentially('j.salary_m');
  await listbox(page).waitFor();
  assert.deepEqual(await labels(page), ['salary_min', 'salary_max']);
  await listbox(page).getByRole('option', { name: /salary_max/ }).click();
  assert.equal(await editor(page).inputValue(), `SELECT j.${second}, j.sal\nj.salary_max FROM jobs j`);
  await listbox(page).waitFor({ state: 'hidden' });
});

uiTest('with the list closed, Tab leaves the editor and Enter is a newline; Ctrl+Space opens it', server, async ({ page, url }) => {
  await openSql(page, url);
  await editor(page).pressSequentially('SELECT 1');
  assert.equal(await expanded(page), 'false');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Run');

  // Ctrl+Space at an empty prefix lists names; tables first right after FROM.
  await editor(page).fill('SELECT * FROM ');
  await editor(page).press('End');
  assert.equal(await expanded(page), 'false');
  await editor(page).press('Control+Space');
  await listbox(page).waitFor();
  const names = await labels(page);
  const tables = (await (await fetch(srv.url + '/catalog/datasets')).json()).datasets.map((d) => d.name);
  assert.ok(tables.length >= 5);
  assert.deepEqual(names.slice(0, tables.length), tables);
  assert.equal(await listbox(page).getByRole('option').count(), 12);
  // Moving the cursor elsewhere closes it.
  await editor(page).press('ArrowLeft');
  await listbox(page).waitFor({ state: 'hidden' });

  // Columns of the tables the query names come before the rest.
  await editor(page).fill('SELECT  FROM clients');
  await editor(page).evaluate((ta) => ta.setSelectionRange(7, 7));
  await editor(page).pressSequentially('na');
  await listbox(page).waitFor();
  const opts = await listbox(page).getByRole('option').allTextContents();
  assert.match(opts[0], /^C?name.*· clients$/);

  // Nothing inside a string literal, even on Ctrl+Space.
  await editor(page).fill("SELECT * FROM jobs WHERE title = '");
  await editor(page).press('End');
  await editor(page).pressSequentially('jo');
  await editor(page).press('Control+Space');
  assert.equal(await expanded(page), 'false');
  assert.equal(await listbox(page).isVisible(), false);
  // Nor in a comment.
  await editor(page).fill('-- ');
  await editor(page).press('End');
  await editor(page).pressSequentially('jo');
  assert.equal(await expanded(page), 'false');
});

uiTest('the list stays inside a 390px window', server, async ({ page, url }) => {
  await openSql(page, url);
  await editor(page).pressSequentially('SELECT candidate_id, first_name, email, city, state FROM candidates WHERE s');
  await listbox(page).waitFor();
  const box = await listbox(page).boundingBox();
  const ed = await page.locator('.sql-editor-panel .editor').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 390, JSON.stringify(box));
  assert.ok(box.y >= 0 && box.y + box.height <= 800, JSON.stringify(box));
  assert.ok(box.x >= ed.x - 1 && box.x + box.width <= ed.x + ed.width + 1, 'inside the editor\'s width');
  // Under the caret's line: below the editor's first line, and not past the text's last line by more than a line.
  const caretTop = await editor(page).evaluate((ta) => ta.getBoundingClientRect().top);
  assert.ok(box.y > caretTop + 10, JSON.stringify({ box, caretTop }));
  await assertNoHorizontalScroll(page);
  await editor(page).press('Enter');
  assert.match(await editor(page).inputValue(), /WHERE s\w+$/);
}, { viewport: { width: 390, height: 800 } });

uiTest('no list for a new name after AS; Enter on the typed word is a newline', server, async ({ page, url }) => {
  await openSql(page, url);
  await editor(page).pressSequentially('SELECT count(*) AS n');
  assert.equal(await expanded(page), 'false');
  await editor(page).press('Enter');
  await editor(page).pressSequentially('FROM jobs ORDER BY n');
  await listbox(page).waitFor();
  assert.equal((await labels(page))[0], 'n');          // the alias the query defines
  await editor(page).press('Enter');
  assert.equal(await editor(page).inputValue(), 'SELECT count(*) AS n\nFROM jobs ORDER BY n\n');
  await listbox(page).waitFor({ state: 'hidden' });
});

uiTest('Ask: the generated SQL editor completes from the catalog', server, async ({ page, url }) => {
  const catalog = page.waitForRequest((r) => r.url().endsWith('/catalog/datasets'));
  await page.goto(url + '/#/ask?mode=tables&q=' + encodeURIComponent('jobs per state'));
  const sqlBox = page.getByLabel('Generated SQL');
  await sqlBox.waitFor();
  assert.equal(await sqlBox.inputValue(), STATES_SQL);
  await catalog;
  await sqlBox.fill('SELECT count(*) AS n FROM jobs WHERE ');
  await sqlBox.press('Control+End');
  await sqlBox.pressSequentially('sta');
  const list = page.getByRole('listbox', { name: 'Completions' });
  await list.waitFor();
  // jobs' own columns first, then other tables' columns and keywords.
  const got = await list.locator('.editor-ac-label').allTextContents();
  assert.deepEqual(got.slice(0, 2), ['state', 'status']);
  assert.ok(got.includes('start_date') && got.includes('TIMESTAMP'), got.join(','));
  await sqlBox.press('Tab');
  await sqlBox.pressSequentially(' IS NOT NULL');
  const q = 'SELECT count(*) AS n FROM jobs WHERE state IS NOT NULL';
  assert.equal(await sqlBox.inputValue(), q);
  await sqlBox.press('Control+Enter');
  await page.getByTestId('row-count').filter({ hasText: /^1 row/ }).waitFor();
  assert.equal(await page.locator('table.data[aria-label="Answer rows"] tbody td').textContent(), '300');
  assert.equal(await page.getByRole('link', { name: 'Open in SQL' }).getAttribute('href'),
    '#/sql?' + new URLSearchParams({ q }).toString());
});
