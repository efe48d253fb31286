// System: health and version from /health, buckets with a real probe, pinning and evicting a
// dataset in the query cache through the page, one failing endpoint leaving a readable error
// in its own panel while the rest still shows, the demo's index job, and a phone-width window.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uiTest, closeBrowser, assertNoHorizontalScroll, waitText } from './lib/harness.mjs';

let srv;
before(async () => { srv = await startServer({ demo: true }); });
after(async () => { await closeBrowser(); await srv.stop(); });

const server = { get url() { return srv.url; } };


const getJson = async (url) => (await fetch(url)).json();

uiTest('shows health, version and the healthy primary bucket', server, async ({ page, url }) => {
  const health = await getJson(url + '/health');
  await page.goto(url + '/#/system');
  await waitText(page, '#sys-health .sys-status', 'ok');
  await waitText(page, '#sys-health .sys-version', health.version);
  assert.match(await page.textContent('#sys-health'), new RegExp(`DuckDB\\s*${health.duckdb_version}`));
  assert.match(await page.textContent('#sys-health'), /Generation\s*none configured/);
  const primary = '#sys-buckets li[data-bucket="primary"]';
  await waitText(page, `${primary} .sys-bucket-health`, 'healthy');
  assert.match(await page.textContent(`${primary} .sys-bucket-head`), /primary\s*data/);
  assert.equal(await page.textContent(`${primary} .sys-bucket-root`), `${srv.dataDir}/buckets/primary`);
  assert.match(await page.textContent(`${primary} .sys-latency`), /^probe \d+(\.\d+)? (ms|s)$/, 'the probe latency is shown');
});

uiTest('pins a dataset in the cache and evicts it again', server, async ({ page, url }) => {
  await page.goto(url + '/#/system');
  await waitText(page, '#sys-cache .sys-entries', '0');
  await page.waitForSelector('#sys-pin-ds option[value="candidates"]', { state: 'attached' });
  await page.selectOption('#sys-pin-ds', 'candidates');
  await page.click('#sys-cache button[type=submit]');
  await waitText(page, '#sys-cache .sys-entries', '1');
  const row = '#sys-cache tr[data-dataset="candidates"]';
  await page.waitForSelector(row);
  assert.match(await page.textContent(row), /loaded/);
  let stats = await getJson(url + '/query/cache/stats');
  assert.equal(stats.entries, 1);
  assert.equal(stats.datasets[0].dataset, 'candidates');

  await page.click(`${row} button.sys-evict`);
  await waitText(page, '#sys-cache .sys-entries', '0');
  await page.waitForSelector(row, { state: 'detached' });
  await waitText(page, '#sys-cache .sys-cache-msg', /Evicted candidates/);
  stats = await getJson(url + '/query/cache/stats');
  assert.equal(stats.entries, 0);
});

uiTest('a failing endpoint shows its error in its own panel', server, async ({ page, url }) => {
  const health = await getJson(url + '/health');
  await page.route('**/storage/errors*', (route) => route.fulfill({
    status: 500, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'io_error', message: 'the error journal is unreadable', request_id: 'r-test1' } }),
  }));
  await page.goto(url + '/#/system');
  await waitText(page, '#sys-errors .error-box .msg', 'the error journal is unreadable');
  assert.match(await page.textContent('#sys-errors .error-box'), /io_error/);
  assert.match(await page.textContent('#sys-errors .error-box'), /request r-test1/);
  await waitText(page, '#sys-health .sys-version', health.version);
  await page.waitForSelector('#sys-buckets li[data-bucket="primary"]');
  assert.equal(await page.locator('#sys-health .error-box, #sys-buckets .error-box, #sys-cache .error-box').count(), 0);
}, { allowConsole: [/status of 500/] });

uiTest('the jobs panel lists the demo resumes index job as succeeded', server, async ({ page, url }) => {
  const { jobs } = await getJson(url + '/vectors/jobs');
  const job = jobs.find((j) => j.params && j.params.index === 'resumes');
  assert.ok(job, 'the demo built the resumes index');
  await page.goto(url + '/#/system');
  const row = `#sys-jobs li.job[data-job-id="${job.id}"]`;
  await waitText(page, `${row} .job-state`, 'succeeded');
  assert.match(await page.textContent(`${row} .job-title`), /resumes on resumes \(resume\)/);
  assert.equal(await page.getAttribute(`${row} [role=progressbar]`, 'aria-valuenow'), '100');
  assert.match(await page.textContent(`${row} .job-meta`), /attempts 1/);
});

uiTest('Ingest and System fit a 390px window', server, async ({ page, url }) => {
  await page.goto(url + '/#/ingest');
  await page.locator('#ing-files').setInputFiles({ name: 'narrow_people.csv', mimeType: 'text/csv',
    buffer: Buffer.from('id,full_name,email,phone,street_address\n1,Ann Lee,ann@example.com,555-201-3344,12 Long Street Name Avenue\n') });
  await waitText(page, 'li.upload[data-file="narrow_people.csv"] .upload-state', 'ingested');
  await page.waitForSelector('li.job');
  await assertNoHorizontalScroll(page);
  await page.goto(url + '/#/system');
  await page.waitForSelector('#sys-buckets li[data-bucket="primary"]');
  await page.waitForSelector('#sys-jobs li.job');
  await page.selectOption('#sys-pin-ds', 'resumes');
  await page.click('#sys-cache button[type=submit]');
  await page.waitForSelector('#sys-cache tr[data-dataset="resumes"]');
  await assertNoHorizontalScroll(page);
}, { viewport: { width: 390, height: 800 } });
