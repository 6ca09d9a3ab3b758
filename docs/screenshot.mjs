#!/usr/bin/env node
// Screenshot of a report for the README: `node docs/screenshot.mjs report.html docs/report.png [width] [height]`.
// Headless Debian chromium driven by playwright-core (the same setup as the report tests).
import { chromium } from 'playwright-core';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [html, out, width = '1400', height = '2200'] = process.argv.slice(2);
if (!html || !out) {
  console.error('usage: node docs/screenshot.mjs REPORT.html OUT.png [width] [height]');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: Number(width), height: Number(height) } });
  await page.goto(pathToFileURL(resolve(html)).href, { waitUntil: 'load' });
  await page.screenshot({ path: out, fullPage: false });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
