// The segment builder and the 360's audience card in headless Chromium, in
// English: the visual editor's estimate as a condition changes (and its
// text), the text form's estimate (and its rows), a text that does not
// read, saving, the members, a member's 360. axe-core on each.
//
//   node segments.mjs <beacon url> <email> <password> <member profile id>
//
// Needs BEACON_TEST_NODE_MODULES and Chromium, as console.mjs. Prints one JSON line.

import { launch, watch, serious, logIn } from './lib.mjs';

const [base, email, password, member] = process.argv.slice(2);

const browser = await launch();
const out = { errors: [], axe: {} };
try {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  watch(page, out.errors, /status of 40[01]/); // the text that does not read answers 400
  await logIn(page, base, email, password);

  await page.getByRole('link', { name: 'Segments', exact: true }).click();
  await page.getByRole('link', { name: 'New segment' }).click();
  const estimate = page.locator('.sg-estimate');
  await estimate.filter({ hasText: 'About' }).waitFor();
  out.visual_first = await estimate.textContent();
  await page.getByLabel('Times 1').fill('1');
  await estimate.filter({ hasText: 'About 3' }).waitFor();
  out.visual_second = await estimate.textContent();
  out.axe.builder = await serious(page);
  await page.getByRole('button', { name: 'Text', exact: true }).click();
  const text = page.getByLabel('Conditions (text)');
  out.text_of_visual = await text.inputValue();
  await text.fill('performed "Product Viewed" >= 1 within 30d and has phone');
  await estimate.filter({ hasText: 'About 1 ' }).waitFor();
  out.text_estimate = await estimate.textContent();
  await page.getByRole('button', { name: 'Visual', exact: true }).click();
  out.rows_of_text = await page.locator('.sg-row').count();
  // a wallet condition: u1 holds a spring code (still 1), two of them (nobody)
  await page.getByRole('button', { name: 'Add a condition' }).click();
  await page.getByLabel('Condition 3 kind').selectOption('coupons');
  await page.getByLabel('Coupon template (any if empty) 3').fill('spring');
  await estimate.filter({ hasText: 'About 1 ' }).waitFor();
  await page.getByLabel('Number 3').fill('2');
  await estimate.filter({ hasText: 'About 0 ' }).waitFor();
  out.wallet_estimate = await estimate.textContent();
  await page.getByRole('button', { name: 'Text', exact: true }).click();
  out.text_of_wallet = await text.inputValue();
  await page.getByRole('button', { name: 'Visual', exact: true }).click();
  await page.getByRole('button', { name: 'Text', exact: true }).click();
  await text.fill('performed "Product Viewed" >= x');
  const textError = page.locator('.sg-text .field-error');
  await textError.filter({ hasText: /./ }).waitFor();
  out.text_error = await textError.textContent();
  await text.fill('performed "Product Viewed" >= 1 within 30d and has phone');
  await estimate.filter({ hasText: 'About 1 ' }).waitFor();
  await page.getByLabel('Name').fill('Phone viewers');
  await page.getByRole('button', { name: 'Save the segment' }).click();
  await page.locator('h1', { hasText: 'Phone viewers' }).waitFor();
  await page.locator('section[aria-labelledby="sg-members"] tbody tr').first().waitFor();
  out.members = await page.locator('section[aria-labelledby="sg-members"] tbody tr td:first-child').allTextContents();
  out.detail = await page.locator('dl.facts').first().textContent();
  out.axe.detail = await serious(page);

  await page.goto(base + '/#/customers/' + member);
  const card = page.locator('section', { has: page.locator('h2', { hasText: 'Segments and value' }) });
  await card.locator('.c360-body:not([aria-busy]) dl').waitFor();
  out.c360 = await card.textContent();
  // tags: the computed ones, one added by hand and removed again
  const tags = page.locator('section', { has: page.locator('h2', { hasText: 'Tags' }) });
  await tags.locator('.c360-body:not([aria-busy]) .tag').first().waitFor();
  out.computed_tags = await tags.locator('.tag').allTextContents();
  await tags.getByLabel('Tag', { exact: true }).fill('双十一');
  await tags.getByLabel('Family').selectOption('loyalty');
  await tags.getByRole('button', { name: 'Add tag' }).click();
  await tags.locator('.tag', { hasText: '双十一' }).waitFor();
  out.manual_tag = await tags.locator('.tag', { hasText: '双十一' }).textContent();
  out.axe.c360 = await serious(page);
  await tags.getByRole('button', { name: 'Remove tag 双十一' }).click();
  await tags.locator('.tag', { hasText: '双十一' }).waitFor({ state: 'detached' });
  out.tags_after_removal = await tags.locator('.tag').count();

  // the customer list by tag
  await page.goto(base + '/#/customers?tag=' + encodeURIComponent('interest:鞋'));
  await page.locator('section[aria-labelledby="cust-list"] tbody tr').first().waitFor();
  out.tagged_rows = await page.locator('section[aria-labelledby="cust-list"] tbody tr').count();

  await page.getByRole('link', { name: 'Customer value', exact: true }).click();
  await page.locator('.in-grid td.in-cell').first().waitFor();
  out.grid_cells = await page.locator('.in-grid td.in-cell').count();
  await page.locator('section[aria-labelledby="in-funnel"] tbody tr').first().waitFor();
  out.funnel = await page.locator('section[aria-labelledby="in-funnel"] tbody tr').allTextContents();
  await page.locator('section[aria-labelledby="in-clusters"] tbody tr').first().waitFor();
  await page.locator('.in-bubbles svg').waitFor();
  out.bubbles = await page.locator('.in-bubbles svg path, .in-bubbles svg circle').count();
  out.moves = await page.locator('section[aria-labelledby="in-funnel"] h3').allTextContents();
  out.axe.insights = await serious(page);
  await context.close();
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
