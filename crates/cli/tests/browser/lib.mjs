// What every console driver needs: the packages (from
// BEACON_TEST_NODE_MODULES), Debian's Chromium started headless, the page
// errors collected (a 401 is how the console learns it must log in, and a
// wrong password's answer: not an error), and axe-core's serious or
// critical violations of WCAG 2 A/AA on a page.

import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.env.BEACON_TEST_NODE_MODULES || '.', 'x.js'));
export const { chromium } = require('playwright-core');
const { AxeBuilder } = require('@axe-core/playwright');

export function launch() {
  return chromium.launch({
    executablePath: process.env.BEACON_TEST_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}

/** Collects the page's errors into `errors` (console errors but those matching `allowed`). */
export function watch(page, errors, allowed = /status of 401/) {
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !allowed.test(m.text())) errors.push(m.text());
  });
}

/** axe-core's serious and critical violations on the page, as `id: the elements`. */
export async function serious(page) {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return r.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Logs in on the console at `base` (whatever its language) and waits for the dashboard. */
export async function logIn(page, base, email, password) {
  await page.goto(base + '/');
  await page.locator('input[type=email]').fill(email);
  await page.locator('input[type=password]').fill(password);
  await page.locator('form.login button[type=submit]').click();
  await page.locator('.kpi .value').first().waitFor();
}
