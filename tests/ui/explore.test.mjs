// Explore: the dataset list (counts, search kept in the hash, badges), the dataset page
// (schema with PII, a preview equal to SQL's answer, lineage, the profile, editable
// metadata that survives a reload and reaches the list), a missing dataset, the source row
// a Search hit links to, and the layout at phone width and by keyboard.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uiTest, closeBrowser, assertNoHorizontalScroll } from './lib/harness.mjs';

let srv;
before(async () => { srv = await startServer({ demo: true }); });
after(async () => { await closeBrowser(); await srv.stop(); });

const server = { get url() { return srv.url; } };

async function getJSON(path, init) {
  const r = await fetch(srv.url + path, init);
  assert.ok(r.ok, `${path}: ${r.status}`);
  return r.json();
}
const sqlRows = (sql) => getJSON('/query/sql', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                                 body: JSON.stringify({ sql }) });
const fmt = (n) => n.toLocaleString('en-US');
const cellText = (v) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v));

uiTest('explore lists every dataset, filters as you type and keeps the filter', server, async ({ page, url }) => {
  const { datasets } = await getJSON('/catalog/datasets');
  assert.ok(datasets.length >= 5);
  await page.goto(url + '/#/explore');
  await page.locator('.ds-card').first().waitFor();
  assert.equal(await page.locator('.ds-card').count(), datasets.length);
  assert.equal(await page.getByTestId('count').textContent(), `${datasets.length} of ${datasets.length} datasets`);
  for (const d of datasets) {
    const card = page.locator(`.ds-card[data-name="${d.name}"]`);
    assert.equal(await card.locator('[data-fact=rows] dd').textContent(), fmt(d.row_count), d.name);
    assert.equal(await card.locator('[data-fact=columns] dd').textContent(), String(d.columns.length), d.name);
    assert.equal(await card.locator('.ds-name a').getAttribute('href'), `#/explore/${d.name}`);
  }
  const cand = datasets.find((d) => d.name === 'candidates');
  const npii = cand.columns.filter((c) => c.pii).length;
  assert.ok(npii > 0);
  assert.equal(await page.locator('.ds-card[data-name=candidates] .pii-badge').textContent(), `PII · ${npii} columns`);
  assert.equal(await page.locator('.ds-card[data-name=clients] .pii-badge').count(),
               datasets.find((d) => d.name === 'clients').columns.some((c) => c.pii) ? 1 : 0);

  await page.getByLabel('Search datasets').fill('resum');
  await page.waitForFunction(() => document.querySelectorAll('.ds-card').length === 1);
  assert.equal(await page.locator('.ds-card .ds-name').textContent(), 'resumes');
  assert.equal(await page.getByTestId('count').textContent(), `1 of ${datasets.length} datasets`);
  assert.match(page.url(), /#\/explore\?q=resum$/);

  // The filter is in the hash, so a reload keeps it.
  await page.reload();
  await page.locator('.ds-card').first().waitFor();
  assert.equal(await page.getByLabel('Search datasets').inputValue(), 'resum');
  assert.equal(await page.locator('.ds-card').count(), 1);

  // A column name matches too; nothing matching says so.
  await page.getByLabel('Search datasets').fill('salary_min');
  await page.waitForFunction(() => document.querySelectorAll('.ds-card').length === 1);
  assert.equal(await page.locator('.ds-card .ds-name').textContent(), 'jobs');
  await page.getByLabel('Search datasets').fill('zzz-no-such-thing');
  await page.getByText('No dataset matches').waitFor();
  assert.equal(await page.getByTestId('count').textContent(), `0 of ${datasets.length} datasets`);

  // Sorting by rows puts the largest first.
  await page.getByLabel('Search datasets').fill('');
  await page.getByLabel('Sort by').selectOption('rows');
  const names = await page.locator('.ds-card .ds-name').allTextContents();
  const byRows = datasets.slice().sort((a, b) => b.row_count - a.row_count || a.name.localeCompare(b.name)).map((d) => d.name);
  assert.deepEqual(names, byRows);
});

uiTest('the jobs page shows schema with PII, a preview equal to SQL, and its history', server, async ({ page, url }) => {
  await page.goto(url + '/#/explore/jobs');
  await page.locator('h1.ds-title').waitFor();
  assert.equal(await page.locator('h1.ds-title').textContent(), 'jobs');
  const salary = page.locator('#panel-schema tr[data-column=salary_min]');
  assert.equal(await salary.locator('td.pii').textContent(), 'salary');
  assert.equal(await salary.locator('td.sensitive').textContent(), 'sensitive');
  assert.equal(await page.locator('#panel-schema tr[data-column=title] td.pii').textContent(), '');

  const tab = page.getByRole('tab', { name: 'Preview' });
  await tab.click();
  assert.equal(await tab.getAttribute('aria-selected'), 'true');
  const rows = page.locator('#panel-preview table.data tbody tr');
  await page.waitForFunction(() => document.querySelectorAll('#panel-preview table.data tbody tr').length === 100);
  const answer = await sqlRows('SELECT * FROM "jobs" LIMIT 100');
  const first = await rows.first().locator('td').allTextContents();
  assert.deepEqual(first, answer.rows[0].map(cellText));
  const open = page.getByRole('link', { name: 'Open in SQL' });
  assert.equal(await open.getAttribute('href'), '#/sql?' + new URLSearchParams({ q: 'SELECT * FROM "jobs" LIMIT 100' }));

  await page.getByRole('tab', { name: 'History' }).click();
  const hist = page.locator('#panel-history table.data tbody tr');
  await hist.first().waitFor();
  const cells = await hist.first().locator('td').allTextContents();
  const detail = await getJSON('/catalog/datasets/by-name/jobs');
  const v0 = detail.history.find((e) => e.version === 0);
  assert.equal(cells[0], '0');
  assert.equal(cells[3], 'demo');
  assert.equal(cells[4], v0.file_name);
  assert.equal(await hist.first().locator('code.hash').getAttribute('title'), v0.content_hash);
  assert.match(page.url(), /#\/explore\/jobs\?tab=history$/);
});

uiTest('the profile lists every column with the API\'s distinct counts', server, async ({ page, url }) => {
  await page.goto(url + '/#/explore/jobs');
  await page.locator('h1.ds-title').waitFor();
  const req = page.waitForRequest((r) => r.url().endsWith('/ai/summarize/jobs') && r.method() === 'POST');
  await page.getByRole('tab', { name: 'Profile' }).click();
  await req;
  const rows = page.locator('#panel-profile table.profile tbody tr');
  await rows.first().waitFor();
  const api = await getJSON('/ai/summarize/jobs', { method: 'POST' });
  assert.equal(await rows.count(), api.columns.length);
  for (const c of api.columns) {
    const tr = page.locator(`#panel-profile tr[data-column="${c.name}"]`);
    assert.equal(await tr.locator('td.distinct').textContent(), fmt(c.distinct), c.name);
  }
  assert.equal(await page.locator('#panel-profile .profile-rows strong').textContent(), fmt(api.rows));
  // Top values of a non-sensitive column show as bars; a sensitive one says it is hidden.
  const title = api.columns.find((c) => c.name === 'title');
  assert.equal(await page.locator('#panel-profile tr[data-column=title] .topvals li').count(), title.top_values.length);
  assert.equal(await page.locator('#panel-profile tr[data-column=title] .tv-value').first().textContent(), title.top_values[0].value);
  assert.match(await page.locator('#panel-profile tr[data-column=salary_min] td.topcell').textContent(), /hidden/);
  // The button profiles again.
  const again = page.waitForRequest((r) => r.url().endsWith('/ai/summarize/jobs'));
  await page.locator('#panel-profile').getByRole('button', { name: 'Profile' }).click();
  await again;
  await rows.first().waitFor();
});

uiTest('metadata edits are saved, survive a reload, reach the list, and a 400 keeps the form', server, async ({ page, url }) => {
  await page.goto(url + '/#/explore/jobs?tab=metadata');
  const form = page.locator('#panel-metadata form');
  await form.waitFor();
  await form.getByLabel('Description', { exact: true }).fill('Open positions at our clients');
  await form.getByLabel('Owner').fill('staffing-team');
  await form.getByLabel('Sensitivity').selectOption('confidential');
  await form.getByLabel('Tags (comma-separated)').fill('staffing, daily');
  await form.locator('#md-age').fill('1');
  await form.getByLabel('Freshness unit').selectOption('days');
  await form.getByLabel('Description of title').fill('the advertised job title');
  const req = page.waitForRequest((r) => r.method() === 'PATCH');
  await form.getByRole('button', { name: 'Save' }).click();
  // Only what changed is sent.
  assert.deepEqual((await req).postDataJSON(), {
    description: 'Open positions at our clients', owner: 'staffing-team', sensitivity: 'confidential',
    tags: ['staffing', 'daily'], freshness: { max_age_s: 86400 },
    columns: { title: { description: 'the advertised job title' } },
  });
  await page.locator('.toast', { hasText: 'Saved' }).waitFor();
  await page.getByTestId('ds-description').filter({ hasText: 'Open positions at our clients' }).waitFor();

  await page.reload();
  await page.locator('h1.ds-title').waitFor();
  assert.equal(await page.getByTestId('ds-description').textContent(), 'Open positions at our clients');
  assert.equal(await page.locator('.ds-header [data-fact=owner] dd').textContent(), 'staffing-team');
  assert.deepEqual(await page.locator('.ds-header .badge-tag').allTextContents(), ['staffing', 'daily']);
  assert.equal(await page.locator('.ds-header .badge', { hasText: 'confidential' }).count(), 1);
  const f = page.locator('#panel-metadata form');
  assert.equal(await f.getByLabel('Owner').inputValue(), 'staffing-team');
  assert.equal(await f.getByLabel('Sensitivity').inputValue(), 'confidential');
  assert.equal(await f.getByLabel('Tags (comma-separated)').inputValue(), 'staffing, daily');
  assert.equal(await f.locator('#md-age').inputValue(), '1');
  assert.equal(await f.getByLabel('Freshness unit').inputValue(), 'days');
  assert.equal(await f.getByLabel('Description of title').inputValue(), 'the advertised job title');
  await page.getByRole('tab', { name: 'Schema' }).click();
  assert.equal(await page.locator('#panel-schema tr[data-column=title] td.desc').textContent(), 'the advertised job title');

  const ds = await getJSON('/catalog/datasets/by-name/jobs');
  assert.equal(ds.description, 'Open positions at our clients');
  assert.equal(ds.owner, 'staffing-team');
  assert.equal(ds.sensitivity, 'confidential');
  assert.deepEqual(ds.tags, ['staffing', 'daily']);
  assert.equal(ds.freshness.max_age_s, 86400);
  assert.equal(ds.columns.find((c) => c.name === 'title').description, 'the advertised job title');

  await page.goto(url + '/#/explore');
  const card = page.locator('.ds-card[data-name=jobs]');
  await card.waitFor();
  assert.equal(await card.locator('.badge', { hasText: 'confidential' }).count(), 1);
  assert.deepEqual(await card.locator('.badge-tag').allTextContents(), ['staffing', 'daily']);
  assert.equal(await card.locator('[data-fact=owner] dd').textContent(), 'staffing-team');
  await page.getByLabel('Search datasets').fill('staffing-team');
  await page.waitForFunction(() => document.querySelectorAll('.ds-card').length === 1);

  // A tag over 64 characters: the server's 400 message in the form, the typing kept.
  await page.goto(url + '/#/explore/jobs?tab=metadata');
  const g = page.locator('#panel-metadata form');
  await g.waitFor();
  const long = 'x'.repeat(70);
  await g.getByLabel('Tags (comma-separated)').fill(long);
  await g.getByLabel('Owner').fill('someone-else');
  await g.getByRole('button', { name: 'Save' }).click();
  const err = g.locator('.error-box');
  await err.waitFor();
  assert.match(await err.textContent(), /longer than 64 characters/);
  assert.equal(await g.getByLabel('Tags (comma-separated)').inputValue(), long);
  assert.equal(await g.getByLabel('Owner').inputValue(), 'someone-else');
  assert.equal((await getJSON('/catalog/datasets/by-name/jobs')).owner, 'staffing-team');
}, { allowConsole: [/status of 400/] });

uiTest('a missing dataset says so and links back', server, async ({ page, url }) => {
  await page.goto(url + '/#/explore/nope');
  const box = page.locator('.error-box');
  await box.waitFor();
  assert.match(await box.textContent(), /dataset 'nope' not found/);
  await page.getByRole('link', { name: '← All datasets' }).click();
  await page.locator('.ds-card').first().waitFor();
}, { allowConsole: [/status of 404/] });

uiTest('the source row a search hit links to is shown first', server, async ({ page, url }) => {
  const answer = await sqlRows('SELECT resume FROM resumes WHERE candidate_id = 7');
  const resume = answer.rows[0][0];
  await page.goto(url + '/#/explore/resumes?key=candidate_id&value=7');
  const box = page.locator('#panel-preview .source-row dl.kv');
  await box.waitFor();
  const dts = await box.locator('dt').allTextContents();
  const dds = await box.locator('dd').allTextContents();
  assert.equal(dds[dts.indexOf('candidate_id')], '7');
  assert.equal(dds[dts.indexOf('resume')], resume);
  await page.goto(url + '/#/explore/resumes?key=candidate_id&value=999999');
  await page.locator('.source-row', { hasText: 'No row of resumes' }).waitFor();
});

uiTest('narrow window: no sideways scroll; keyboard reaches and opens a dataset', server, async ({ page, url }) => {
  await page.goto(url + '/#/explore');
  await page.locator('.ds-card').first().waitFor();
  await assertNoHorizontalScroll(page);
  await page.goto(url + '/#/explore/jobs');
  await page.locator('h1.ds-title').waitFor();
  for (const name of ['Schema', 'Preview', 'History', 'Profile', 'Metadata']) {
    await page.getByRole('tab', { name }).click();
    await page.locator('[role=tabpanel]:not([hidden]) :is(table, form)').first().waitFor();
    await assertNoHorizontalScroll(page);
  }

  // Tabs follow the arrow keys.
  await page.getByRole('tab', { name: 'Metadata' }).focus();
  await page.keyboard.press('Home');
  assert.equal(await page.getByRole('tab', { name: 'Schema' }).getAttribute('aria-selected'), 'true');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Preview');
  assert.equal(await page.getByRole('tab', { name: 'Preview' }).getAttribute('aria-selected'), 'true');

  await page.goto(url + '/#/explore');
  await page.locator('.ds-card').first().waitFor();
  await page.getByLabel('Search datasets').focus();
  let onLink = false;
  for (let i = 0; i < 4 && !onLink; i++) {
    await page.keyboard.press('Tab');
    onLink = await page.evaluate(() => !!document.activeElement.closest('.ds-name'));
  }
  assert.ok(onLink, 'Tab from the search box did not reach a dataset link');
  const name = await page.evaluate(() => document.activeElement.textContent);
  await page.keyboard.press('Enter');
  await page.locator('h1.ds-title', { hasText: name }).waitFor();
  assert.match(page.url(), new RegExp(`#/explore/${name}$`));
}, { viewport: { width: 390, height: 800 } });
