// Accessibility: axe-core's WCAG 2.1 A/AA rules on every view (and a dataset page, a SQL
// result, search hits and an answer with citations), failing on any serious or critical
// finding. axe runs inside the page, so this context bypasses the page's CSP to inject it;
// everything else about the page is as served.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startServer, browser, closeBrowser, artifacts } from './lib/harness.mjs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let srv;
before(async () => { srv = await startServer({ demo: true }); });
after(async () => { await closeBrowser(); await srv.stop(); });

const PAGES = [
  ['ask', '#/ask?mode=documents&index=resumes&q=' + encodeURIComponent('who knows python?'), '.answer-text'],
  ['explore', '#/explore', '.page[data-view="explore"] a[href="#/explore/jobs"]'],
  ['dataset', '#/explore/jobs', '.page[data-view="explore"] table'],
  ['sql', '#/sql?q=' + encodeURIComponent('SELECT * FROM jobs LIMIT 20'), 'table.data'],
  ['search', '#/search?index=resumes&q=forklift', 'mark'],
  ['ingest', '#/ingest', '.page[data-view="ingest"] input[type=file]'],
  ['system', '#/system', '.page[data-view="system"] dl'],
];

for (const [w, hgt] of [[1280, 800], [390, 800]]) {
  test(`no serious accessibility findings at ${w}x${hgt}`, { timeout: 120000 }, async () => {
    const b = await browser();
    const context = await b.newContext({ viewport: { width: w, height: hgt }, bypassCSP: true });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    const found = [];
    try {
      for (const [name, hash, ready] of PAGES) {
        await page.goto(srv.url + '/' + hash);
        await page.locator(ready).first().waitFor({ state: 'attached' });
        await page.waitForLoadState('networkidle');
        await page.addScriptTag({ content: axeSource });
        const res = await page.evaluate(async () => window.axe.run(document, {
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        }));
        for (const v of res.violations)
          if (v.impact === 'serious' || v.impact === 'critical')
            found.push(`${name}: ${v.id} (${v.impact}): ${v.help}: ` +
                       v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | '));
      }
      assert.deepEqual(found, [], 'accessibility findings');
    } catch (e) {
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, `a11y-${w}.png`), fullPage: true }).catch(() => {});
      throw e;
    } finally {
      await context.close();
    }
  });
}
