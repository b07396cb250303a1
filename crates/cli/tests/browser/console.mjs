// Drives Beacon's console in headless Chromium as a marketer would: log
// in (a wrong password first), the dashboard in Chinese with its chart,
// the language switched to English (and kept on reload), accessibility
// checked with axe-core on each screen, logout; then a viewer who tries to
// change something by crafting the request.
//
//   node console.mjs <beacon url> <email> <password> <viewer email> <viewer password>
//
// Needs BEACON_TEST_NODE_MODULES (scripts/test installs the packages pinned
// in package.json beside this file into target/js) and Chromium
// (BEACON_TEST_CHROMIUM, default /usr/bin/chromium). Prints one JSON line.

import { launch, watch, serious } from './lib.mjs';

const [base, email, password, viewerEmail, viewerPassword] = process.argv.slice(2);
const modules = process.env.BEACON_TEST_NODE_MODULES;
if (!viewerPassword || !modules) {
  console.error('usage: BEACON_TEST_NODE_MODULES=… node console.mjs <url> <email> <password> <viewer email> <viewer password>');
  process.exit(2);
}

const browser = await launch();
const out = { errors: [] };
const h1 = (page) => page.locator('h1').first().textContent();

try {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  watch(page, out.errors);
  const started = Date.now();
  await page.goto(base + '/');
  await page.locator('form.login').waitFor();
  out.login_title = await h1(page);
  out.login_axe = await serious(page);

  await page.getByLabel('邮箱').fill(email);
  await page.getByLabel('密码').fill('not the password');
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('#login-error').filter({ hasText: /./ }).waitFor();
  out.wrong_password = await page.locator('#login-error').textContent();

  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('.kpi .value').first().waitFor();
  out.dashboard_ms = Date.now() - started;
  out.dashboard_title = await h1(page);
  out.kpis = await page.locator('.kpi').allTextContents();
  await page.locator('.chart svg').first().waitFor();
  out.chart = await page.locator('.chart svg').count();
  out.cookie_visible_to_scripts = await page.evaluate(() => document.cookie.includes('beacon_session'));
  out.dashboard_axe = await serious(page);

  await page.locator('#lang').click();
  await page.locator('h1', { hasText: 'Dashboard' }).waitFor();
  out.switched_title = await h1(page);
  await page.reload();
  await page.locator('.kpi .value').first().waitFor();
  out.after_reload_title = await h1(page);
  out.english_kpis = await page.locator('.kpi h2').allTextContents();

  await page.getByRole('link', { name: /Marketer|Admin/ }).click();
  await page.locator('h1', { hasText: 'My account' }).waitFor();
  out.account_axe = await serious(page);

  await page.locator('#logout').click();
  await page.locator('form.login').waitFor();
  out.after_logout = await h1(page);
  out.session_after_logout = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
  await context.close();

  // a viewer: reads, but a crafted change is refused by the server
  const vc = await browser.newContext({ locale: 'en-US' });
  const vp = await vc.newPage();
  await vp.goto(base + '/');
  await vp.getByLabel('Email').fill(viewerEmail);
  await vp.getByLabel('Password').fill(viewerPassword);
  await vp.getByRole('button', { name: 'Log in' }).click();
  await vp.locator('.kpi .value').first().waitFor();
  out.viewer_title = await h1(vp);
  out.viewer_change = await vp.evaluate(async () => {
    const me = await (await fetch('/api/v1/session')).json();
    const r = await fetch('/api/v1/promotions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token },
      body: JSON.stringify({ id: 'sneaky', name: 'x', reward: { type: 'amount_off', amount: '1' } }),
    });
    return [r.status, (await r.json()).error.code];
  });
  await vc.close();
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
