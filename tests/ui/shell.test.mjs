// The shell: the page is served from the binary, every tab opens its view by mouse and by
// keyboard, assets revalidate with 304, and the layout holds at 1280x800 and phone width.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uiTest, closeBrowser, assertNoHorizontalScroll } from './lib/harness.mjs';

let srv;
before(async () => { srv = await startServer({ demo: true }); });
after(async () => { await closeBrowser(); await srv.stop(); });

const server = { get url() { return srv.url; } };

uiTest('serves the page with a strict CSP and revalidating assets', server, async ({ page, url }) => {
  const resp = await page.goto(url + '/');
  assert.equal(resp.status(), 200);
  const h = resp.headers();
  assert.match(h['content-security-policy'], /script-src 'self'/);
  assert.equal(h['x-content-type-options'], 'nosniff');
  const etag = h.etag;
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  const again = await fetch(url + '/', { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  const js = await fetch(url + '/ui/js/app.js');
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  const missing = await fetch(url + '/ui/nope.js');
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'not_found');
  await assert.doesNotReject(page.locator('#nav a').first().waitFor());
  assert.equal(await page.locator('#nav a').count(), 6);
});

const VIEWS = ['ask', 'explore', 'sql', 'search', 'ingest', 'system'];

uiTest('every tab opens its view from the keyboard', server, async ({ page, url }) => {
  // System takes no focus of its own (Ask puts the cursor in its question box).
  await page.goto(url + '/#/system');
  await page.locator('.page[data-view="system"]').waitFor();
  // The skip link comes first, then the brand, then the tabs in order.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  await page.keyboard.press('Tab');
  for (const view of VIEWS) {
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.view), view);
    await page.keyboard.press('Enter');
    await page.locator(`.page[data-view="${view}"]`).waitFor();
    assert.equal(await page.locator(`#nav a[data-view="${view}"]`).getAttribute('aria-current'), 'page');
    assert.match(await page.title(), /· Lakehouse$/);
    // Back to the tab just used: focus stays where the user left it.
    await page.locator(`#nav a[data-view="${view}"]`).focus();
  }
});

for (const [w, hgt] of [[1280, 800], [390, 800]]) {
  uiTest(`every view fits a ${w}x${hgt} window`, server, async ({ page, url }) => {
    for (const view of VIEWS) {
      await page.goto(`${url}/#/${view}`);
      await page.locator(`.page[data-view="${view}"]`).waitFor();
      await page.waitForLoadState('networkidle');
      await assertNoHorizontalScroll(page);
      // Something is on the page: no blank panel.
      const text = (await page.locator('#view').innerText()).trim();
      assert.ok(text.length > 20, `${view} looks empty: ${JSON.stringify(text)}`);
    }
  }, { viewport: { width: w, height: hgt } });
}

uiTest('a failing server shows a readable message in every view', server, async ({ page, url }) => {
  // Every API call fails as an unreachable bucket would; the UI's own files still load.
  await page.route((u) => !new URL(u).pathname.startsWith('/ui/') && new URL(u).pathname !== '/', (route) =>
    route.fulfill({ status: 503, contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'unavailable', message: 'bucket primary is unreachable', request_id: 'r-x' } }) }));
  for (const view of VIEWS) {
    await page.goto(`${url}/#/${view}`);
    await page.locator(`.page[data-view="${view}"]`).waitFor();
    const box = page.locator('#view .error-box').first();
    await box.waitFor();
    assert.match(await box.innerText(), /bucket primary is unreachable/, view);
  }
  // The header says the server is not answering.
  await page.locator('#status', { hasText: 'offline' }).waitFor();
}, { allowConsole: [/status of 503/] });
