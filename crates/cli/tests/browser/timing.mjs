// How long each console screen takes to be usable on the demo shop: a full
// page load of the screen's address, until its content is on the page
// (the dashboard's charts drawn, tables filled, no section still loading),
// as milliseconds since the navigation started (performance.now()), five
// loads per screen after one to warm the server. Used by scripts/console-timing.
//
//   node timing.mjs <beacon url> <admin email> <password>
//
// Needs BEACON_TEST_NODE_MODULES and Chromium, as console.mjs. Prints one JSON line.

import { launch, logIn } from './lib.mjs';

const [base, email, password] = process.argv.slice(2);
const LOADS = 5;

const browser = await launch();
const out = { screens: [] };
try {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1366, height: 860 } });
  const page = await context.newPage();
  await logIn(page, base, email, password);
  const busy = await page.evaluate(async () => {
    const r = await (await fetch('/api/v1/profiles?min_events=40&limit=1')).json();
    return r.items[0] && r.items[0].id;
  });
  const idle = async () => page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
  const screens = [
    ['dashboard', '#/', async () => { await page.locator('.chart svg').first().waitFor(); await page.locator('.kpi .value').first().waitFor(); }],
    ['customers', '#/customers', async () => { await page.locator('main table tbody tr').first().waitFor(); }],
    ['customer 360', `#/customers/${busy}`, async () => { await page.locator('main section table').first().waitFor(); await idle(); }],
    ['products', '#/products', async () => { await page.locator('main table tbody tr').first().waitFor(); }],
    ['orders', '#/orders', async () => { await page.locator('main table tbody tr').first().waitFor(); }],
    ['promotions', '#/promotions', async () => { await page.locator('main table tbody tr').first().waitFor(); }],
    ['simulator', '#/simulator', async () => { await page.locator('main form').first().waitFor(); await idle(); }],
    ['points', '#/loyalty', async () => { await page.locator('main section').first().waitFor(); await idle(); }],
    ['import', '#/import', async () => { await page.locator('main form').first().waitFor(); await idle(); }],
    ['admin', '#/admin', async () => { await page.locator('#a-users + div table').waitFor(); await idle(); }],
  ];
  for (const [name, hash, ready] of screens) {
    const times = [];
    for (let i = 0; i <= LOADS; i++) {
      await page.goto(base + '/' + hash, { waitUntil: 'commit' });
      await page.reload({ waitUntil: 'commit' });
      await page.locator('main h1').first().waitFor();
      await ready();
      const ms = await page.evaluate(() => performance.now());
      if (i > 0) times.push(Math.round(ms));
    }
    times.sort((a, b) => a - b);
    out.screens.push({ name, median: times[Math.floor(times.length / 2)], max: times[times.length - 1], times });
  }
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
