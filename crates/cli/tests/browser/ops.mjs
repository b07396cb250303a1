// Products and orders in headless Chromium (zh-CN): find a product by name
// and open it (its history); open an order and refund one unit of a line,
// then see the refund applied; axe-core on each screen.
//
//   node ops.mjs <beacon url> <email> <password> <order id>

import { launch, watch, serious } from './lib.mjs';

const [base, email, password, orderId] = process.argv.slice(2);

const browser = await launch();
const out = { errors: [], axe: {} };
const axe = async (page, name) => { out.axe[name] = await serious(page); };
try {
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  watch(page, out.errors);
  await page.goto(base + '/');
  await page.getByLabel('邮箱').fill(email);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('.kpi .value').first().waitFor();

  await page.getByRole('link', { name: '商品', exact: true }).click();
  await page.getByLabel('名称包含').fill('龙井');
  await page.getByRole('button', { name: '筛选' }).click();
  await page.waitForURL(/q=/);
  await page.getByRole('link', { name: '西湖龙井' }).waitFor();
  out.products = await page.locator('main tbody tr').count();
  await axe(page, 'products');
  await page.getByRole('link', { name: '西湖龙井' }).click();
  await page.locator('h1', { hasText: '西湖龙井' }).waitFor();
  await page.locator('#p-history + div table').waitFor();
  out.history = await page.locator('#p-history + div tbody td:nth-child(3)').allTextContents();
  await axe(page, 'product');

  await page.getByRole('link', { name: '订单', exact: true }).click();
  await page.getByRole('link', { name: orderId }).click();
  await page.locator('h1', { hasText: orderId }).waitFor();
  await axe(page, 'order');
  await page.getByLabel('退 西湖龙井 的数量').fill('1');
  await page.getByLabel('退款原因').fill('包装破损');
  await page.getByRole('button', { name: '提交退款' }).click();
  await page.getByText('退款已生效。').waitFor();
  out.after_refund = await page.locator('main .facts').first().textContent();
  out.after_sales = await page.locator('main section').nth(2).locator('tbody tr').allTextContents();
  await context.close();
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
