// Ingest: files uploaded through the file input and by drag-and-drop become datasets with
// their schema and PII flags shown, a second upload of the same bytes is reported as a
// duplicate, a ragged CSV shows the server's message on its row, and an index build started
// from the form shows up in the jobs list and follows its progress to the end.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uiTest, closeBrowser, waitText } from './lib/harness.mjs';

let srv;
before(async () => { srv = await startServer({ demo: false }); });
after(async () => { await closeBrowser(); await srv.stop(); });

const server = { get url() { return srv.url; } };

// A CSV of n contacts: id, name, email, city.
function contactsCsv(n) {
  const lines = ['id,name,email,city'];
  const cities = ['Oslo', 'Lyon', 'Porto', 'Graz'];
  for (let i = 1; i <= n; i++) lines.push(`${i},Person ${i},person${i}@example.com,${cities[i % 4]}`);
  return Buffer.from(lines.join('\n') + '\n');
}
const CONTACTS = contactsCsv(240);


async function dataset(url, name) {
  const r = await fetch(`${url}/catalog/datasets/by-name/${name}`);
  return { status: r.status, body: await r.json() };
}

uiTest('uploads a CSV through the file input and shows its schema with PII flags', server, async ({ page, url }) => {
  await page.goto(url + '/#/ingest');
  await page.waitForSelector('#ing-bucket option[value="primary"]', { state: 'attached' });
  const [req] = await Promise.all([
    page.waitForRequest((r) => r.url().includes('/ingest/file')),
    page.locator('#ing-files').setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: CONTACTS }),
  ]);
  assert.equal(req.method(), 'POST');
  assert.equal(new URL(req.url()).searchParams.get('on_schema_change'), 'fail');
  assert.equal(req.headers()['x-lakehouse-bucket'], 'primary');
  assert.match(req.headers()['content-type'], /^multipart\/form-data/);
  const row = 'li.upload[data-file="contacts.csv"]';
  await waitText(page, `${row} .upload-state`, 'ingested');
  assert.equal(await page.getAttribute(`${row} [role=progressbar]`, 'aria-valuenow'), '100');
  await waitText(page, `${row} .res-dataset`, 'contacts');
  assert.equal(await page.getAttribute(`${row} .res-dataset a`, 'href'), '#/explore/contacts');
  await waitText(page, `${row} .res-rows`, '240');
  await waitText(page, `${row} .res-outcome`, /created \(version 0\)/);
  // The email column: flagged "email", sensitive, highlighted.
  const email = `${row} tr[data-column="email"]`;
  assert.match(await page.textContent(email), /VARCHAR.*email.*sensitive/);
  assert.match(await page.getAttribute(email, 'class'), /pii-row/);
  assert.doesNotMatch(await page.getAttribute(`${row} tr[data-column="city"]`, 'class') || '', /pii-row/);

  const ds = await dataset(url, 'contacts');
  assert.equal(ds.status, 200);
  assert.equal(ds.body.row_count, 240);
  assert.equal(ds.body.columns.find((c) => c.name === 'email').pii, 'email');
});

uiTest('a second upload of the same content is reported as a duplicate', server, async ({ page, url }) => {
  await page.goto(url + '/#/ingest');
  await page.locator('#ing-files').setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: CONTACTS });
  const row = 'li.upload[data-file="contacts.csv"]';
  await waitText(page, `${row} .notice-dup`,
    'Duplicate: this exact content is already in the lake (dataset contacts, version 0); nothing was stored.');
  assert.equal(await page.textContent(`${row} .upload-state`), 'duplicate');
  const ds = await dataset(url, 'contacts');
  assert.equal(ds.body.version, 0);
  assert.equal(ds.body.row_count, 240);
});

uiTest('appending a file with a new column under "add new columns" shows the schema change', server, async ({ page, url }) => {
  await page.goto(url + '/#/ingest');
  await page.fill('#ing-name', 'contacts');
  await page.selectOption('#ing-schema', 'add_columns');
  await page.locator('#ing-files').setInputFiles({ name: 'more_contacts.csv', mimeType: 'text/csv',
    buffer: Buffer.from('id,name,email,city,phone\n241,Late Person,late@example.com,Oslo,555-201-3344\n') });
  const row = 'li.upload[data-file="more_contacts.csv"]';
  await waitText(page, `${row} .res-outcome`, /appended \(version 1\)/);
  await waitText(page, `${row} .res-rows`, '1');
  assert.match(await page.textContent(`${row} .ingest-diff`), /added\s*phone\s*VARCHAR/);
  assert.match(await page.textContent(`${row} tr[data-column="phone"]`), /phone.*sensitive/);
  const ds = await dataset(url, 'contacts');
  assert.equal(ds.body.row_count, 241);
  assert.ok(ds.body.columns.some((c) => c.name === 'phone'));
});

uiTest('a file dropped on the drop zone is ingested', server, async ({ page, url }) => {
  await page.goto(url + '/#/ingest');
  await page.locator('.dropzone').waitFor();
  const dt = await page.evaluateHandle(() => {
    const d = new DataTransfer();
    d.items.add(new File(['city,country\nOslo,Norway\nLyon,France\nPorto,Portugal\n'], 'dropped.csv', { type: 'text/csv' }));
    return d;
  });
  await page.dispatchEvent('.dropzone', 'dragenter', { dataTransfer: dt });
  assert.match(await page.getAttribute('.dropzone', 'class'), /\bover\b/);
  await page.dispatchEvent('.dropzone', 'drop', { dataTransfer: dt });
  const row = 'li.upload[data-file="dropped.csv"]';
  await waitText(page, `${row} .res-rows`, '3');
  await waitText(page, `${row} .res-dataset`, 'dropped');
  assert.doesNotMatch(await page.getAttribute('.dropzone', 'class'), /\bover\b/);
  const ds = await dataset(url, 'dropped');
  assert.equal(ds.status, 200);
  assert.equal(ds.body.row_count, 3);
});

uiTest('a ragged CSV shows the server message naming the line, and registers nothing', server, async ({ page, url }) => {
  await page.goto(url + '/#/ingest');
  await page.locator('#ing-files').setInputFiles({ name: 'ragged.csv', mimeType: 'text/csv',
                                                   buffer: Buffer.from('a,b\n1,2\n3\n4,5\n') });
  const row = 'li.upload[data-file="ragged.csv"]';
  await waitText(page, `${row} .error-box .msg`, /line 3 has 1 field where the header has 2/);
  assert.match(await page.textContent(`${row} .error-box`), /Ingesting ragged\.csv failed/);
  assert.match(await page.textContent(`${row} .upload-state`), /failed \(400\)/);
  assert.equal((await dataset(url, 'ragged')).status, 404);
}, { allowConsole: [/status of 400/] });

uiTest('builds an index from the form and follows the job to the end', server, async ({ page, url }) => {
  // A dataset with a text column, sent straight to the API.
  const lines = ['note_id,body'];
  for (let i = 1; i <= 3000; i++) lines.push(`${i},note ${i} about ${['rust', 'go', 'sql', 'python'][i % 4]} engineering and lakes`);
  const fd = new FormData();
  fd.append('file', new Blob([lines.join('\n') + '\n'], { type: 'text/csv' }), 'notes.csv');
  const up = await fetch(url + '/ingest/file', { method: 'POST', body: fd });
  assert.equal(up.status, 201);

  await page.goto(url + '/#/ingest');
  await page.waitForSelector('#vi-dataset option[value="notes"]', { state: 'attached' });
  await page.selectOption('#vi-dataset', 'notes');
  await page.selectOption('#vi-text', 'body');
  await page.selectOption('#vi-id', 'note_id');
  assert.equal(await page.getAttribute('#vi-index', 'placeholder'), 'notes');
  // Record every state the job's row shows, without reloading: a marker on window survives.
  await page.evaluate(() => {
    window.__noReload = true;
    window.__states = [];
    new MutationObserver(() => {
      for (const b of document.querySelectorAll('li.job .job-state')) {
        const id = b.closest('li.job').dataset.jobId;
        const last = window.__states.filter((s) => s[0] === id).pop();
        if (!last || last[1] !== b.textContent) window.__states.push([id, b.textContent]);
      }
    }).observe(document.querySelector('.jobs'), { subtree: true, childList: true, characterData: true });
  });
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/vectors/index') && r.request().method() === 'POST'),
    page.click('.build-form button[type=submit]'),
  ]);
  assert.equal(resp.status(), 202);
  const sent = resp.request().postDataJSON();
  assert.deepEqual(sent, { dataset: 'notes', text_column: 'body', id_column: 'note_id', index: 'notes' });
  const { job_id: id } = await resp.json();
  const row = `li.job[data-job-id="${id}"]`;
  const handle = await page.waitForSelector(row);
  await waitText(page, `${row} .job-state`, 'succeeded');
  assert.ok(await handle.evaluate((el) => el.isConnected), 'the row was updated in place');
  assert.ok(await page.evaluate(() => window.__noReload), 'the page did not reload');
  const states = (await page.evaluate(() => window.__states)).filter((s) => s[0] === id).map((s) => s[1]);
  assert.ok(states.length >= 2 && states[0] !== 'succeeded', `the row went through states: ${states}`);
  assert.equal(states.at(-1), 'succeeded');
  assert.equal(await page.getAttribute(`${row} [role=progressbar]`, 'aria-valuenow'), '100');
  assert.match(await page.textContent(`${row} .job-progress-text`), /3,000 \/ 3,000/);
  assert.match(await page.textContent(`${row} .job-title`), /notes on notes \(body\)/);
  assert.ok(await page.locator(`${row} .job-cancel`).isHidden(), 'no Cancel for a finished job');

  const idx = await (await fetch(url + '/vectors/indexes/notes')).json();
  assert.equal(idx.rows, 3000);
});

uiTest('Cancel on a running job sends DELETE and the row shows cancelled', server, async ({ page, url }) => {
  // A build that stays running until cancelled, served by page.route: real builds of test
  // data finish before a click could land.
  let cancelled = false, deletes = 0;
  const job = () => ({
    id: 'job-fake-1', kind: 'vector_index', state: cancelled ? 'cancelled' : 'running', attempts: 1,
    params: { dataset: 'contacts', index: 'contacts', text_column: 'name' },
    progress: { done: 1200, total: 3000, rate_per_s: 850, eta_s: 2.1, phase: 'embedding' },
    created_ms: Date.now() - 5000, started_ms: Date.now() - 4000, ...(cancelled ? { finished_ms: Date.now() } : {}),
  });
  await page.route('**/vectors/jobs**', async (route) => {
    const req = route.request();
    if (req.method() === 'DELETE') {
      assert.ok(req.url().endsWith('/vectors/jobs/job-fake-1'));
      deletes++;
      cancelled = true;
    }
    const body = req.method() === 'DELETE' ? job() : { jobs: [job()] };
    await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  });
  await page.goto(url + '/#/ingest');
  const row = 'li.job[data-job-id="job-fake-1"]';
  await waitText(page, `${row} .job-state`, 'running');
  assert.equal(await page.getAttribute(`${row} [role=progressbar]`, 'aria-valuenow'), '40');
  assert.match(await page.textContent(`${row} .job-progress-text`), /1,200 \/ 3,000 · embedding · 850\/s · ETA 2s/);
  await page.focus(`${row} .job-cancel`);
  await page.keyboard.press('Enter');
  await waitText(page, `${row} .job-state`, 'cancelled');
  assert.equal(deletes, 1);
  assert.ok(await page.locator(`${row} .job-cancel`).isHidden());
});
