// Shared harness of the UI tests: a real `lakehouse serve` (the binary in $LAKEHOUSE_BIN,
// default build/lakehouse) on a free loopback port with a fresh data directory, Debian's
// chromium driven by playwright-core, and uiTest(), which gives each test a fresh page,
// fails it on any console error or uncaught page error, and saves a screenshot of the page
// when it fails (tests/ui/artifacts/<test>.png, or $UI_ARTIFACTS).
//
//   import { startServer, uiTest } from './lib/harness.mjs';
//   const srv = await startServer({ demo: true });
//   after(() => srv.stop());
//   uiTest('finds jobs in Explore', srv, async ({ page, url }) => { ... });
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../../..');
export const artifacts = process.env.UI_ARTIFACTS || join(repo, 'tests/ui/artifacts');
const bin = process.env.LAKEHOUSE_BIN || join(repo, 'build/lakehouse');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function healthy(url, deadline) {
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url + '/health');
      if (r.ok) return true;
    } catch { /* not yet */ }
    await sleep(100);
  }
  return false;
}

// Starts a server. opts: demo (load the staffing demo and build its "resumes" index),
// env (extra environment, e.g. LAKEHOUSE_GENERATE_*). Resolves {url, dataDir, stop(), log()}.
export async function startServer(opts = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lh-ui-'));
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = ['serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`];
    if (opts.demo) args.push('--demo');
    const child = spawn(bin, args, {
      env: { ...process.env, OMP_THREAD_LIMIT: '1', LAKEHOUSE_LOG_LEVEL: 'warn', ...(opts.env || {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    const url = `http://127.0.0.1:${port}`;
    const exited = new Promise((r) => child.once('exit', (code, sig) => r({ code, sig })));
    if (await Promise.race([healthy(url, Date.now() + 20000), exited.then(() => false)])) {
      return {
        url, dataDir, log: () => log,
        async stop() {
          child.kill('SIGTERM');
          const { code } = await Promise.race([exited, sleep(15000).then(() => ({ code: 'timeout' }))]);
          if (code === 'timeout') child.kill('SIGKILL');
          rmSync(dataDir, { recursive: true, force: true });
          assert.equal(code, 0, `lakehouse serve did not exit cleanly:\n${log.slice(-2000)}`);
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    if (!/address already in use|cannot bind/i.test(log))
      throw new Error(`lakehouse serve did not become healthy:\n${log.slice(-3000)}`);
  }
  throw new Error('no free port for lakehouse serve after 3 attempts');
}

// Starts tests/fakes/fake_models.py (a protocol-level Ollama/OpenAI fake). Resolves
// {url, control(body), stop()}.
export async function startFakeModels() {
  const child = spawn('/usr/bin/python3', [join(repo, 'tests/fakes/fake_models.py'), '--port', '0',
    '--exit-on-stdin-eof'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout });
  const port = await new Promise((res, rej) => {
    rl.once('line', (l) => res(Number(l)));
    child.once('exit', () => rej(new Error('fake_models.py exited before printing its port')));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async control(body) {
      const r = await fetch(url + '/_control', { method: 'POST', body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json' } });
      assert.ok(r.ok, `fake control: ${r.status} ${await r.text()}`);
    },
    async stop() { child.stdin.end(); child.kill('SIGTERM'); },
  };
}

let browserPromise = null;
export function browser() {
  if (!browserPromise)
    browserPromise = chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
  return browserPromise;
}

export async function closeBrowser() {
  if (browserPromise) (await browserPromise).close();
  browserPromise = null;
}

// A test with a fresh browser context and page on srv. fn({page, context, url, consoleErrors}).
// opts.viewport (default 1280x800); opts.allowConsole: regexes of console errors the test
// provokes on purpose (Chrome logs every 4xx/5xx answer as "Failed to load resource").
export function uiTest(name, srv, fn, opts = {}) {
  test(name, { timeout: opts.timeout || 60000 }, async () => {
    const b = await browser();
    const context = await b.newContext({ viewport: opts.viewport || { width: 1280, height: 800 },
                                         acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(opts.stepTimeout || 10000);
    const consoleErrors = [];
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const text = m.text();
      if ((opts.allowConsole || []).some((re) => re.test(text))) return;
      consoleErrors.push(text);
    });
    page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
    try {
      await fn({ page, context, url: srv.url, consoleErrors });
      assert.deepEqual(consoleErrors, [], 'the page logged errors');
    } catch (e) {
      mkdirSync(artifacts, { recursive: true });
      const file = join(artifacts, name.replace(/[^a-z0-9]+/gi, '-').toLowerCase() + '.png');
      try {
        await page.screenshot({ path: file, fullPage: true });
        e.message += `\n(screenshot: ${file})`;
      } catch { /* the page may be gone */ }
      if (consoleErrors.length) e.message += `\nconsole errors: ${consoleErrors.join(' | ')}`;
      throw e;
    } finally {
      await context.close();
    }
  });
}

// Reads a file of the repo (fixtures).
export function fixture(rel) {
  return readFileSync(join(repo, rel));
}

// The page fits the viewport: nothing makes the document scroll sideways.
export async function assertNoHorizontalScroll(page) {
  const { sw, iw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: window.innerWidth }));
  assert.ok(sw <= iw, `the page is ${sw}px wide in a ${iw}px window`);
}

// Waits until the text of the first element matching sel (trimmed) equals want (a string) or
// matches it (a RegExp); on timeout the error says what the element held instead.
export async function waitText(page, sel, want) {
  const src = want instanceof RegExp ? { re: want.source, flags: want.flags } : { eq: want };
  try {
    await page.waitForFunction(([s, w]) => {
      const el = document.querySelector(s);
      if (!el) return false;
      const t = el.textContent.trim();
      return w.re !== undefined ? new RegExp(w.re, w.flags).test(t) : t === w.eq;
    }, [sel, src]);
  } catch {
    const got = await page.evaluate((s) => document.querySelector(s)?.textContent.trim() ?? '(missing)', sel);
    throw new Error(`${sel}: wanted ${want}, got ${JSON.stringify(got)}`);
  }
}
