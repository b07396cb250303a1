// The admin screen in headless Chromium: an admin creates a read-only
// user for the finance team and a key (shown once), sees both in the
// audit log; axe-core finds no serious violation; the new user logs in
// and sees no admin screen.
//
//   node admin.mjs <beacon url> <admin email> <password>
//
// Needs BEACON_TEST_NODE_MODULES and Chromium, as console.mjs. Prints one JSON line.

import { launch, watch, serious, logIn } from './lib.mjs';

const [base, email, password] = process.argv.slice(2);

const browser = await launch();
const out = { errors: [] };
const login = (page, who, pw) => logIn(page, base, who, pw);
try {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  watch(page, out.errors);
  await login(page, email, password);
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await page.locator('h1', { hasText: 'Admin' }).waitFor();
  await page.locator('#a-users + div table').waitFor();
  await page.locator('#a-settings + div dl').waitFor();
  out.settings = await page.locator('#a-settings + div dl').textContent();
  out.all_settings = await page.locator('#a-settings + div pre').textContent();
  out.axe = await serious(page);
  const users = page.locator('section[aria-labelledby="a-users"]');
  await users.getByLabel('Email', { exact: true }).fill('caiwu@shop.cn');
  await users.getByLabel('Name', { exact: true }).fill('财务');
  await users.getByLabel('Role', { exact: true }).selectOption('viewer');
  await users.getByLabel('First password').fill('finance team 2027');
  await users.getByRole('button', { name: 'Add user' }).click();
  await users.locator('td', { hasText: 'caiwu@shop.cn' }).waitFor();
  out.users = await users.locator('tbody tr td:first-child').allTextContents();
  const keys = page.locator('section[aria-labelledby="a-keys"]');
  await keys.getByLabel('Name', { exact: true }).fill('BI 报表');
  await keys.getByRole('button', { name: 'Create key' }).click();
  await keys.locator('.secret code').waitFor();
  out.key_shown = await keys.locator('.secret code').textContent();
  out.keys = await keys.locator('tbody tr td:first-child').allTextContents();
  const audit = page.locator('section[aria-labelledby="a-audit"]');
  await audit.getByRole('button', { name: 'Filter' }).click();
  await audit.locator('td', { hasText: 'user.create' }).first().waitFor();
  out.audit = await audit.locator('tbody tr td:nth-child(3)').allTextContents();
  await context.close();

  const vc = await browser.newContext({ locale: 'en-US' });
  const vp = await vc.newPage();
  await login(vp, 'caiwu@shop.cn', 'finance team 2027');
  out.viewer_nav = await vp.locator('nav a').allTextContents();
  await vc.close();
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
