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
