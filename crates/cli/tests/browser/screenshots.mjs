// Takes the screenshots in docs/screenshots/: every main screen of the
// console on the demo shop, in Chinese and in English (scripts/screenshots
// starts the demo and runs this).
//
//   node screenshots.mjs <beacon url> <admin email> <password> <out dir>

import path from 'node:path';
import fs from 'node:fs';
import { createRequire } from 'node:module';

const [base, email, password, outDir] = process.argv.slice(2);
const require = createRequire(path.join(process.env.BEACON_TEST_NODE_MODULES, 'x.js'));
const { chromium } = require('playwright-core');

const browser = await chromium.launch({
  executablePath: process.env.BEACON_TEST_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
fs.mkdirSync(outDir, { recursive: true });
const shots = [];
try {
  for (const [lang, browserLocale] of [['zh-CN', 'zh-CN'], ['en', 'en-US']]) {
    const context = await browser.newContext({ locale: browserLocale, viewport: { width: 1366, height: 860 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const shot = async (name) => {
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(400); // charts animate in
      const file = path.join(outDir, `${lang}-${name}.png`);
      await page.screenshot({ path: file });
      shots.push(file);
    };
    await page.goto(base + '/');
    await page.locator('form.login').waitFor();
    await shot('login');
    await page.locator('input[type=email]').fill(email);
    await page.locator('input[type=password]').fill(password);
    await page.locator('form.login button[type=submit]').click();
    await page.locator('.kpi .value').first().waitFor();
    await page.locator('.chart svg').first().waitFor();
    await shot('dashboard');
    const busy = await page.evaluate(async () => {
      const r = await (await fetch('/api/v1/profiles?min_events=40&limit=1')).json();
      return r.items[0] && r.items[0].id;
    });
    if (lang === 'zh-CN') {
      // an import with a rejected line, for the Import screen's list
      await page.evaluate(async () => {
        const { csrf_token: csrf } = await (await fetch('/api/v1/session')).json();
        const csv = 'order_id,user_id,placed_at,currency,product_id,price,quantity\n' +
          'IMP-1,u100000,2026-12-01T10:00:00Z,CNY,P00001,88.00,1\nIMP-2,u100001,昨天,CNY,P00002,12.00,1\n';
        await fetch('/api/v1/imports?kind=orders&name=' + encodeURIComponent('线下门店订单.csv'), {
          method: 'POST', headers: { 'content-type': 'text/csv', 'x-csrf-token': csrf }, body: csv,
        });
      });
    }
    for (const [name, hash] of [['customers', '#/customers'], ['customer-360', `#/customers/${busy}`],
      ['promotions', '#/promotions'], ['simulator', '#/simulator'], ['import', '#/import'], ['admin', '#/admin']]) {
      await page.goto(base + '/' + hash);
      await page.locator('main h1').first().waitFor();
      await shot(name);
    }
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ shots }));
