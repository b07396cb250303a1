// Drives the console's promotions screens and cart simulator in headless
// Chromium, in Chinese, as a marketer would: the list (a draft activated,
// then ended after the confirmation), a 满减 promotion (满100减15) created
// through the form (a first save without the tier's value shows the API's
// error beside that field), its usage, then the simulator: a customer
// found by user id, a product found by name, 2 × TEA-1 with a coupon code
// priced — the 满减 applies, the coupon is rejected with its reason in
// Chinese. axe-core (wcag2a, wcag2aa) on the list, the form and the
// simulator.
//
//   node promotions.mjs <beacon url> <email> <password>
//
// Needs BEACON_TEST_NODE_MODULES and Chromium (BEACON_TEST_CHROMIUM,
// default /usr/bin/chromium), like console.mjs. Prints one JSON line.

import { launch, serious } from './lib.mjs';

const [base, email, password] = process.argv.slice(2);
const modules = process.env.BEACON_TEST_NODE_MODULES;
if (!password || !modules) {
  console.error('usage: BEACON_TEST_NODE_MODULES=… node promotions.mjs <url> <email> <password>');
  process.exit(2);
}

const browser = await launch();
const out = { errors: [] };
const text = async (locator) => (await locator.textContent()).trim();

try {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => out.errors.push(String(e)));
  // (a 401 is how the console learns it must log in; the one save meant to
  // fail is answered 400, which Chromium logs too)
  let badSave = false;
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text()) && !(badSave && /status of 400/.test(m.text()))) out.errors.push(m.text());
  });
  await page.goto(base + '/');
  await page.getByLabel('邮箱').fill(email);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('nav').waitFor();

  // the list, and a draft's lifecycle: activate, end (confirmed)
  await page.getByRole('link', { name: '促销活动' }).click();
  const row = (id) => page.locator(`tr[data-id="${id}"]`);
  await row('cup-draft').waitFor();
  out.list_title = await text(page.locator('h1'));
  out.draft_row = await text(row('cup-draft').locator('.badge'));
  out.list_axe = await serious(page);
  await row('cup-draft').getByRole('button', { name: /^启用/ }).click();
  await row('cup-draft').locator('.badge', { hasText: '进行中' }).waitFor();
  out.activated = await text(row('cup-draft').locator('.badge'));
  out.focus_after_action = await page.evaluate(() => document.activeElement?.className);
  await row('cup-draft').getByRole('button', { name: /^结束/ }).click();
  out.confirm_end = await text(row('cup-draft').locator('.p-actions p'));
  out.confirm_focused = await page.evaluate(() => document.activeElement?.textContent);
  await row('cup-draft').getByRole('button', { name: '确认结束' }).click();
  await row('cup-draft').locator('.badge', { hasText: '已结束' }).waitFor();
  out.ended = await text(row('cup-draft').locator('.badge'));
  out.flash = await text(page.locator('.p-flash'));

  // a 满减 promotion through the form
  await page.getByRole('link', { name: '新建活动' }).click();
  await page.getByLabel('活动编号').waitFor();
  out.form_title = await text(page.locator('h1'));
  await page.getByLabel('活动编号').fill('mj-100-15');
  await page.getByLabel('活动名称').fill('满100减15');
  await page.getByLabel('创建后的状态').selectOption('active');
  await page.getByLabel('结束时间（不含）').fill('2099-12-31T23:59');
  await page.getByLabel('优惠类型').selectOption('tiers');
  await page.getByLabel('第 1 档门槛').fill('100');
  badSave = true;
  await page.getByRole('button', { name: '保存' }).click();
  const value = page.getByLabel('第 1 档优惠值');
  await page.locator('.field-error').filter({ hasText: /./ }).first().waitFor();
  out.field_error = await page.evaluate(() => {
    const el = document.activeElement;
    return { label: document.querySelector(`label[for="${el.id}"]`)?.textContent, invalid: el.hasAttribute('aria-invalid'),
      message: document.getElementById(el.id + '-error')?.textContent };
  });
  out.form_alert = await text(page.locator('.p-alert'));
  badSave = false;
  await value.fill('15');
  await page.getByRole('button', { name: '添加限制' }).click();
  await page.getByLabel('第 1 条：计数').selectOption('discount');
  await page.getByLabel('第 1 条：上限').fill('1000');
  out.json = JSON.parse(await page.locator('textarea.p-json').inputValue());
  out.form_axe = await serious(page);
  await page.getByRole('button', { name: '保存' }).click();
  await row('mj-100-15').waitFor();
  out.saved_flash = await text(page.locator('.p-flash'));
  out.created = (await row('mj-100-15').locator('td').allTextContents()).map((s) => s.trim());
  out.created_status = await text(row('mj-100-15').locator('.badge'));
  await row('mj-100-15').getByRole('button', { name: /^用量/ }).click();
  await page.locator('#p-usage-title', { hasText: '满100减15' }).waitFor();
  await page.locator('section[aria-labelledby="p-usage-title"] table').waitFor();
  out.usage = await text(page.locator('section[aria-labelledby="p-usage-title"] table'));

  // the simulator
  await page.getByRole('link', { name: '购物车模拟' }).click();
  await page.getByLabel('客户标识').waitFor();
  out.dry_run_notice = await text(page.locator('.p-notice').first());
  await page.getByLabel('按什么查找').selectOption('user_id');
  await page.getByLabel('客户标识').fill('u-1001');
  await page.getByRole('button', { name: '查找客户' }).click();
  await page.locator('.p-found', { hasText: '找到客户' }).waitFor();
  out.customer = await text(page.locator('.p-found'));
  await page.getByLabel('搜索商品').fill('龙井');
  await page.getByRole('button', { name: /^加入 龙井/ }).click();
  out.line_product = await page.getByLabel('第 1 行：商品编号').inputValue();
  await page.getByLabel('第 1 行：数量').fill('2');
  await page.getByLabel('优惠券码').fill('VIP20');
  await page.getByRole('button', { name: '试算价格' }).click();
  await page.locator('#sim-result').waitFor();
  out.total = await text(page.locator('.p-total'));
  out.totals = await text(page.locator('#sim-totals dl'));
  out.applied = (await page.locator('#sim-applied li').allTextContents()).map((s) => s.trim());
  out.rejected = (await page.locator('#sim-rejected li').allTextContents()).map((s) => s.trim());
  out.hints = (await page.locator('#sim-hints li').allTextContents()).map((s) => s.trim());
  out.lines = (await page.locator('#sim-lines tbody tr').allTextContents()).map((s) => s.trim());
  out.sim_axe = await serious(page);

  // narrow screen: nothing wider than the viewport but the tables' own scroll boxes
  await page.setViewportSize({ width: 390, height: 800 });
  out.narrow_overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  await context.close();
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
