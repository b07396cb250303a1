// Drives the console's Customers screens in headless Chromium as a
// marketer would: log in (a Chinese browser), Customers, type a phone
// number in the search and land on the customer 360; a trait holding
// markup shows as that literal text (and no dialog opens), the timeline
// lists the events, the order is listed and opens on its lines and
// refunds; the list's filters stay in the address; accessibility checked
// with axe-core on both screens; then a viewer sees the phone masked.
//
//   node customers.mjs <beacon url> <email> <password> <viewer email> <viewer password>
//
// Needs BEACON_TEST_NODE_MODULES (scripts/test installs the packages pinned
// in package.json beside this file into target/js) and Chromium
// (BEACON_TEST_CHROMIUM, default /usr/bin/chromium). Prints one JSON line;
// BEACON_TEST_SCREENSHOTS=<dir> also saves screenshots there.

import path from 'node:path';
import { launch, serious } from './lib.mjs';

const [base, email, password, viewerEmail, viewerPassword] = process.argv.slice(2);
const modules = process.env.BEACON_TEST_NODE_MODULES;
if (!viewerPassword || !modules) {
  console.error('usage: BEACON_TEST_NODE_MODULES=… node customers.mjs <url> <email> <password> <viewer email> <viewer password>');
  process.exit(2);
}

const shots = process.env.BEACON_TEST_SCREENSHOTS;
const browser = await launch();
const out = { errors: [], dialogs: [] };
const shot = async (page, name) => {
  if (shots) await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
};
const watch = (page) => {
  page.on('pageerror', (e) => out.errors.push(String(e)));
  // (a 401 is how the console learns it must log in)
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) out.errors.push(m.text());
  });
  page.on('dialog', async (d) => {
    out.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss();
  });
};
const login = async (page, who, secret, labels) => {
  await page.goto(base + '/');
  await page.locator('form.login').waitFor();
  await page.getByLabel(labels.email).fill(who);
  await page.getByLabel(labels.password).fill(secret);
  await page.getByRole('button', { name: labels.submit }).click();
  await page.locator('nav').waitFor();
};
/** The text of the section titled `title`, once it has loaded. */
const sectionText = async (page, title) => {
  const s = page.locator('section', { has: page.getByRole('heading', { level: 2, name: title, exact: true }) });
  await s.locator('.c360-body:not([aria-busy])').waitFor();
  return (await s.textContent()).replace(/\s+/g, ' ');
};

try {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  watch(page);
  await login(page, email, password, { email: '邮箱', password: '密码', submit: '登录' });

  await page.getByRole('navigation').getByRole('link', { name: '客户', exact: true }).click();
  await page.locator('h1', { hasText: '客户' }).waitFor();
  out.list_title = await page.locator('h1').textContent();
  await page.locator('table tbody tr').first().waitFor();
  out.list_rows = await page.locator('table tbody tr').count();
  out.list_text = (await page.locator('table').textContent()).replace(/\s+/g, ' ');
  out.list_axe = await serious(page);
  await shot(page, 'customers');

  // the list's filters go into the address and survive a reload
  await page.getByLabel('事件数至少').fill('3');
  await page.getByRole('button', { name: '筛选', exact: true }).click();
  await page.waitForURL(/#\/customers\?min_events=3$/);
  await page.reload();
  await page.locator('table tbody tr').first().waitFor();
  out.filtered_hash = await page.evaluate(() => location.hash);
  out.filter_kept = await page.getByLabel('事件数至少').inputValue();
  out.filtered_rows = await page.locator('table tbody tr').count();

  // a phone number typed as a shopper would: straight to the customer 360
  await page.getByLabel('客户标识').fill('13800138000');
  await page.getByLabel('客户标识').press('Enter');
  await page.waitForURL(/#\/customers\/[0-9a-f-]{36}$/);
  out.summary = await sectionText(page, '概况');
  out.landed = await page.evaluate(() => location.hash);
  out.c360_title = await page.locator('h1').textContent();
  out.traits = await sectionText(page, '属性');
  out.script_trait_cells = await page.getByRole('cell', { name: '<script>alert(1)</script>', exact: true }).count();
  out.script_elements_in_main = await page.locator('main script').count();
  out.timeline = await sectionText(page, '行为时间线');
  out.timeline_items = await page.locator('.c360-timeline > li').count();
  out.orders = await sectionText(page, '订单');
  // an order opens on its lines and, read then, its refunds
  await page.locator('.c360-order summary').first().click();
  await page.locator('.c360-order[open] .c360-after table').waitFor();
  out.order_open = (await page.locator('.c360-order[open]').textContent()).replace(/\s+/g, ' ');
  out.points = await sectionText(page, '积分');
  out.coupons = await sectionText(page, '优惠券');
  out.reviews = await sectionText(page, '评价');
  out.merges = await sectionText(page, '合并记录');
  // keyboard: the first event's data opens from the keyboard
  await page.locator('.c360-timeline details summary').first().focus();
  await page.keyboard.press('Enter');
  out.event_json_open = await page.locator('.c360-timeline details[open] pre').count();
  out.c360_axe = await serious(page);
  // 发券: one code of the spring template into this customer's wallet
  await page.getByLabel('发放优惠券').selectOption('spring');
  await page.getByRole('button', { name: '发一张券' }).click();
  await page.locator('.c360-give-status').filter({ hasText: /./ }).waitFor();
  out.given = await page.locator('.c360-give-status').textContent();
  await page.locator('section[aria-labelledby="c360-coupons"] td', { hasText: /^SPRING-/ }).first().waitFor();
  out.wallet = await page.locator('section[aria-labelledby="c360-coupons"] tbody').textContent();
  await shot(page, 'customer');

  // a merged-away id answers its survivor, said so
  const merged = (await page.locator('section', { has: page.getByRole('heading', { name: '合并记录' }) })
    .locator('tbody td').first().textContent()).trim();
  await page.goto(`${base}/#/customers/${merged}`);
  await sectionText(page, '概况');
  out.merged_note = await page.locator('.c360-note').textContent();
  out.merged_title = await page.locator('h1').textContent();

  // other identities: an openid found after the ids tried before it; nobody
  await page.goto(base + '/#/customers');
  await page.getByLabel('客户标识').fill('oWx-openid-7');
  await page.getByLabel('客户标识').press('Enter');
  await page.waitForURL(/#\/customers\/[0-9a-f-]{36}$/);
  await sectionText(page, '概况');
  out.openid_title = await page.locator('h1').textContent();
  await page.goto(base + '/#/customers');
  await page.getByLabel('标识类型').selectOption('email');
  await page.getByLabel('客户标识').fill('nobody@example.com');
  await page.getByRole('button', { name: '查找', exact: true }).click();
  await page.locator('.cust-results p').filter({ hasText: 'nobody' }).waitFor();
  out.not_found = await page.locator('.cust-results').textContent();
  await page.goto(`${base}/#/customers/${out.landed.split('/').pop()}`);
  await sectionText(page, '概况');

  // the same in English
  await page.locator('#lang').click();
  await page.getByRole('heading', { level: 2, name: 'Event timeline' }).waitFor();
  out.english_sections = await page.locator('main h2').allTextContents();
  out.c360_axe_en = await serious(page);

  // narrow screens: nothing wider than the window
  await page.setViewportSize({ width: 390, height: 800 });
  out.overflow_narrow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await shot(page, 'customer-narrow');
  out.dialogs_after = out.dialogs.length;
  await context.close();

  // a viewer: the phone as the server masks it
  const vc = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  const vp = await vc.newPage();
  watch(vp);
  await login(vp, viewerEmail, viewerPassword, { email: '邮箱', password: '密码', submit: '登录' });
  await vp.goto(base + '/#/customers');
  await vp.locator('table tbody tr').first().waitFor();
  out.viewer_list = (await vp.locator('table').textContent()).replace(/\s+/g, ' ');
  await vp.getByLabel('客户标识').fill('13800138000');
  await vp.getByRole('button', { name: '查找', exact: true }).click();
  await vp.waitForURL(/#\/customers\/[0-9a-f-]{36}$/);
  out.viewer_summary = await sectionText(vp, '概况');
  out.viewer_traits = await sectionText(vp, '属性');
  await shot(vp, 'customer-viewer');
  await vc.close();
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
