// The promotions' extra panels, the customer 360's teams and the Points
// screen in headless Chromium, in English: a marketer generates codes of a
// coupon template and exports them as CSV, reads a flash sale's stock and
// a group-buy's open teams, sees the opener's team in their 360, reads the
// points program, saves a wrong change (the API's error beside the
// editor) and a right one, reads the leaderboard. axe-core on each.
//
//   node extras.mjs <beacon url> <email> <password> <opener profile id>
//
// Needs BEACON_TEST_NODE_MODULES and Chromium, as console.mjs. Prints one JSON line.

import fs from 'node:fs';
import { launch, watch, serious, logIn } from './lib.mjs';

const [base, email, password, opener] = process.argv.slice(2);

const browser = await launch();
const out = { errors: [], axe: {} };
try {
  const context = await browser.newContext({ locale: 'en-US', acceptDownloads: true });
  const page = await context.newPage();
  watch(page, out.errors, /status of 40[01]/); // the wrong program's save is a 400
  await logIn(page, base, email, password);

  await page.goto(base + '/#/promotions');
  await page.locator('tr[data-id="spring"]').waitFor();
  await page.getByRole('button', { name: 'Codes Spring coupon' }).click();
  const panel = page.locator('section[aria-labelledby="p-usage-title"]');
  await panel.getByLabel(/How many/).fill('5');
  await panel.getByRole('button', { name: 'Generate codes' }).click();
  await panel.locator('[role=status]', { hasText: '5 codes generated.' }).waitFor();
  await panel.locator('tbody tr').nth(4).waitFor();
  out.codes = await panel.locator('tbody tr td:first-child').allTextContents();
  out.axe.codes = await serious(page);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    panel.getByRole('button', { name: 'Export every code (CSV)' }).click(),
  ]);
  out.export_name = download.suggestedFilename();
  out.export = fs.readFileSync(await download.path(), 'utf8');

  await page.getByRole('button', { name: 'Usage Tea flash sale' }).click();
  await panel.locator('.p-stock').waitFor();
  out.stock = await panel.locator('.p-stock p').textContent();
  out.stock_bar = await panel.locator('.p-stock progress').evaluate((p) => [p.value, p.max]);

  await page.getByRole('button', { name: 'Teams Tea for two' }).click();
  await panel.locator('section[aria-label="Open"] h3').waitFor();
  out.open_teams = await panel.locator('section[aria-label="Open"] tbody tr td:first-child').allTextContents();
  out.axe.teams = await serious(page);

  await page.goto(base + '/#/customers/' + opener);
  const teams = page.locator('section', { has: page.locator('h2', { hasText: 'Group-buy teams' }) });
  await teams.locator('.c360-body:not([aria-busy])').waitFor();
  out.c360_teams_text = await teams.textContent();
  out.c360_teams = await teams.locator('tbody tr td').allTextContents();

  await page.getByRole('link', { name: 'Points', exact: true }).click();
  await page.locator('h1', { hasText: 'Points and tiers' }).waitFor();
  await page.locator('#ly-program ~ dl').waitFor();
  out.program = await page.locator('#ly-program ~ dl').textContent();
  out.tiers = await page.locator('section[aria-labelledby="ly-program"] table tbody tr td:first-child').allTextContents();
  await page.locator('#ly-board ~ div table tbody tr').first().waitFor();
  out.board = await page.locator('#ly-board ~ div table tbody tr td:nth-child(3)').allTextContents();
  out.axe.loyalty = await serious(page);
  await page.getByText('Edit the rules (JSON)').click();
  const editor = page.getByLabel('Program (JSON)');
  const spec = JSON.parse(await editor.inputValue());
  await editor.fill(JSON.stringify({ ...spec, tiers: [...spec.tiers].reverse() }));
  await page.getByRole('button', { name: 'Save the program' }).click();
  await page.locator('.field-error', { hasText: /./ }).first().waitFor();
  out.program_error = await page.locator('.field-error').first().textContent();
  out.program_invalid = await editor.getAttribute('aria-invalid');
  await editor.fill(JSON.stringify({ ...spec, vesting_days: 3 }));
  await page.getByRole('button', { name: 'Save the program' }).click();
  await page.locator('[role=status]', { hasText: 'Program saved' }).waitFor();
  out.saved = await page.locator('[role=status]', { hasText: 'Program saved' }).textContent();
  out.vesting = await page.locator('#ly-program ~ dl').textContent();
  await context.close();
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
