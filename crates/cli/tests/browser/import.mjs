// The Import screen in headless Chromium, in Chinese: a marketer uploads a
// CSV of orders, watches it being read (the progress bar and the counts),
// and downloads the lines it rejected; axe-core finds no serious
// violation. A viewer's navigation has no Import.
//
//   node import.mjs <beacon url> <marketer email> <password> <csv file> <viewer email> <password>
//
// Needs BEACON_TEST_NODE_MODULES and Chromium, as console.mjs. Prints one JSON line.

import fs from 'node:fs';
import path from 'node:path';
import { launch, watch, serious, logIn } from './lib.mjs';

const [base, email, password, file, viewer, viewerPassword] = process.argv.slice(2);

const browser = await launch();
const out = { errors: [] };
const login = (page, who, pw) => logIn(page, base, who, pw);
try {
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  watch(page, out.errors);
  await login(page, email, password);
  await page.getByRole('link', { name: '导入数据', exact: true }).click();
  await page.locator('h1', { hasText: '导入数据' }).waitFor();
  out.axe = await serious(page);
  await page.getByLabel('数据类型').selectOption('orders');
  await page.getByLabel(/^文件/).setInputFiles({
    name: path.basename(file), mimeType: 'text/csv', buffer: fs.readFileSync(file),
  });
  await page.getByRole('button', { name: '上传并导入' }).click();
  // what the progress box shows, every 20 ms, until the import is done
  const seen = [];
  const done = page.locator('#import-progress');
  await done.waitFor();
  for (let i = 0; i < 3000; i++) {
    const state = await page.evaluate(() => {
      const bar = document.getElementById('import-progress');
      const badge = bar && bar.closest('section').querySelector('h2 .badge');
      return bar && { value: Number(bar.value), max: Number(bar.max), status: badge && badge.textContent };
    });
    if (state) seen.push(state);
    if (state && state.status === '已完成') break;
    await page.waitForTimeout(20);
  }
  out.statuses = [...new Set(seen.map((s) => s.status))];
  out.partial = seen.some((s) => s.value > 0 && s.value < s.max);
  out.last = seen[seen.length - 1];
  out.counts = {
    lines: await page.locator('#import-lines').textContent(),
    accepted: await page.locator('#import-accepted').textContent(),
    rejected: await page.locator('#import-rejected').textContent(),
  };
  const link = page.getByRole('link', { name: '下载被拒绝的行（CSV）' }).first();
  out.download_href = await link.getAttribute('href');
  out.rejects = await page.evaluate(async (href) => (await fetch(href)).text(), out.download_href);
  await page.locator('section.card table td', { hasText: path.basename(file) }).first().waitFor();
  out.recent = await page.locator('section.card table tbody tr').first().locator('td').allTextContents();
  out.axe_done = await serious(page);
  await context.close();

  const vc = await browser.newContext({ locale: 'zh-CN' });
  const vp = await vc.newPage();
  await login(vp, viewer, viewerPassword);
  out.viewer_nav = await vp.locator('nav a').allTextContents();
  await vc.close();
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
