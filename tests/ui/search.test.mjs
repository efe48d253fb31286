// Search: ranked hits equal to what POST /vectors/search answers, marked snippets, the link
// to the source row, a readable message for an empty query, and a phone-width layout.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uiTest, closeBrowser, assertNoHorizontalScroll } from './lib/harness.mjs';

let srv;
before(async () => { srv = await startServer({ demo: true }); });
after(async () => { await closeBrowser(); await srv.stop(); });

const server = { get url() { return srv.url; } };

async function apiSearch(url, query, k = 10) {
  const r = await fetch(url + '/vectors/search', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ index: 'resumes', query, k }) });
  assert.equal(r.status, 200);
  return r.json();
}

// The hits the page shows: [{rank, doc, score, marks, href}].
function shownHits(page) {
  return page.locator('.search-hit').evaluateAll((lis) => lis.map((li) => ({
    rank: Number(li.querySelector('.search-hit-rank').textContent),
    doc: li.dataset.doc,
    score: Number(li.querySelector('.search-score').title.replace('score ', '')),
    marks: [...li.querySelectorAll('.search-snippet mark')].map((m) => m.textContent),
    href: li.querySelector('a.search-source')?.getAttribute('href'),
  })));
}

uiTest('search shows the ranked hits of the API with marked snippets', server, async ({ page, url }) => {
  await page.goto(url + '/#/search');
  await page.locator('#search-index').waitFor();
  assert.equal(await page.locator('#search-index').inputValue(), 'resumes');
  await assert.doesNotReject(page.getByTestId('index-about').filter({ hasText: 'ready' }).waitFor());
  await page.getByLabel('Search for').fill('python');
  await page.getByLabel('Search for').press('Enter');
  await page.locator('.search-hit').first().waitFor();

  const expected = await apiSearch(url, 'python', 10);
  const hits = await shownHits(page);
  assert.equal(hits.length, 10);
  assert.deepEqual(hits.map((x) => x.rank), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(hits.map((x) => x.doc), expected.hits.map((x) => x.doc_id));
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i].score <= hits[i - 1].score, 'scores descend');
  for (const x of hits) assert.ok(x.marks.length > 0 && x.marks.every((m) => m.toLowerCase() === 'python'), `marks of ${x.doc}`);
  assert.match(await page.getByTestId('search-head').textContent(), /10 hits in resumes .* backend exact/);
  // The search is in the hash: a reload shows the same hits.
  assert.match(page.url(), /#\/search\?index=resumes&q=python$/);
  await page.reload();
  await page.locator('.search-hit').first().waitFor();
  assert.deepEqual((await shownHits(page)).map((x) => x.doc), expected.hits.map((x) => x.doc_id));
});

uiTest('a hit links to its source row in Explore', server, async ({ page, url }) => {
  await page.goto(url + '/#/search?index=resumes&q=forklift%20certification&k=3');
  await page.locator('.search-hit').first().waitFor();
  const expected = await apiSearch(url, 'forklift certification', 3);
  const hits = await shownHits(page);
  assert.equal(hits.length, 3);
  assert.equal(await page.locator('#search-k').inputValue(), '3');
  hits.forEach((x, i) => assert.equal(x.href, `#/explore/resumes?key=candidate_id&value=${expected.hits[i].doc_id}`));
  assert.deepEqual([...new Set(hits[0].marks.map((m) => m.toLowerCase()))].sort(), ['certification', 'forklift']);
});

uiTest('an empty query is refused with a message; an unknown index is an error box', server, async ({ page, url }) => {
  const requests = [];
  page.on('request', (r) => { if (r.url().endsWith('/vectors/search')) requests.push(r); });
  await page.goto(url + '/#/search');
  await page.getByLabel('Search for').fill('   ');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  assert.equal(await page.locator('#search-msg').textContent(), 'Type some words to search for.');
  assert.equal(requests.length, 0, 'nothing was sent');
  await page.goto(url + '/#/search?index=nope&q=python');
  await page.reload();
  await assert.doesNotReject(page.locator('.error-box').filter({ hasText: "index 'nope' not found" }).waitFor());
});

uiTest('search fits a phone-width window', server, async ({ page, url }) => {
  await page.goto(url + '/#/search?index=resumes&q=senior%20python%20developer%20with%20a%20clean%20driving%20record');
  await page.locator('.search-hit').first().waitFor();
  await assertNoHorizontalScroll(page);
  const box = await page.getByRole('button', { name: 'Search', exact: true }).boundingBox();
  assert.ok(box.x + box.width <= 390);
}, { viewport: { width: 390, height: 800 } });
