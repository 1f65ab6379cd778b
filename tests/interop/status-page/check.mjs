// Opens a status page (`trustroot ceremony status --html`, `trustroot mirror status --html`) in the Debian Chromium through
// puppeteer-core, takes a screenshot at desktop and at phone width, reads back what the
// page shows through the DOM, and runs axe-core in it. Prints one JSON report on stdout;
// the Rust test (cli/tests/status_page.rs) makes the assertions.
//
//   node check.mjs PAGE.html OUT_DIR
//
// TRUSTROOT_TEST_CHROMIUM names the browser (default: /usr/bin/chromium). The test runs
// this inside a network namespace with only loopback: the page must need nothing else.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';

const [page_path, out_dir] = process.argv.slice(2);
if (!page_path || !out_dir) {
  console.error('usage: node check.mjs PAGE.html OUT_DIR');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const axe_source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const browser = await puppeteer.launch({
  executablePath: process.env.TRUSTROOT_TEST_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // The test runs as root inside its namespace (or mapped to root), where Chromium's
  // sandbox refuses to start; the page is ours and has no script.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
const report = { requests: [], console: [], desktop: null, phone: null };
try {
  const page = await browser.newPage();
  // The page's Content-Security-Policy forbids every script: axe is let in by the
  // browser's debugging protocol, not by the page.
  await page.setBypassCSP(true);
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) report.requests.push(r.url());
  });
  page.on('console', (m) => report.console.push(m.text()));
  const url = pathToFileURL(resolve(page_path)).href;

  for (const [name, viewport] of [
    ['desktop', { width: 1280, height: 900 }],
    ['phone', { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }],
  ]) {
    await page.setViewport(viewport);
    await page.goto(url, { waitUntil: 'load' });
    const screenshot = join(out_dir, `status-page-${name}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    const shown = await page.evaluate(() => {
      const text = (el) => (el ? el.textContent.trim() : null);
      const rows = (sel) => [...document.querySelectorAll(sel)];
      return {
        lang: document.documentElement.lang,
        title: document.title,
        scripts: document.scripts.length,
        images: document.images.length,
        // Wider than the viewport means the reader scrolls the whole page sideways.
        page_width: document.documentElement.scrollWidth,
        viewport_width: window.innerWidth,
        signatures: rows('section[aria-labelledby="open-round"] tr[data-keyholder]').map((tr) => ({
          table: text(tr.closest('table').querySelector('caption')),
          keyholder: tr.dataset.keyholder,
          state: tr.dataset.state,
          shown: text(tr.lastElementChild),
        })),
        expiries: rows('tr[data-role]').map((tr) => ({
          role: tr.dataset.role,
          date: text(tr.querySelector('td[data-expires] time')),
          state: text(tr.children[3]),
        })),
        problems: rows('.problem').map(text),
        // The Sigstore payloads' windows: what the table says, and whether a bar is drawn.
        payloads: rows('tr[data-payload]').map((tr) => ({
          file: tr.dataset.payload,
          kind: tr.dataset.kind,
          start: tr.dataset.start,
          end: tr.dataset.end,
          from: text(tr.children[2]),
          until: text(tr.children[3]),
          bar: tr.querySelector('.tl .bar') !== null,
        })),
      };
    });
    shown.screenshot = screenshot;
    await page.evaluate(axe_source);
    const axe = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag21a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] } }),
    );
    const brief = (v) => ({ id: v.id, impact: v.impact, tags: v.tags, help: v.help, nodes: v.nodes.map((n) => n.html) });
    const level_a = (v) => v.tags.some((t) => /^wcag2\d*a$/.test(t));
    shown.axe = {
      version: axe.testEngine.version,
      passes: axe.passes.length,
      violations_a: axe.violations.filter(level_a).map(brief),
      violations_aa: axe.violations.filter((v) => !level_a(v)).map(brief),
    };
    report[name] = shown;
  }
  report.browser = await browser.version();
} finally {
  await browser.close();
}
console.log(JSON.stringify(report, null, 2));
