// Loads a shop's page in headless Chromium with a real browser SDK that
// sends to Beacon: Segment's analytics-next (through the official snippet,
// with Beacon as its CDN for settings and its API host) or RudderStack's
// JavaScript SDK v3 (with Beacon as its config URL and data plane).
//
// The page is served from another origin than Beacon's (its own port), as a
// shop's would be, so every request to Beacon is a cross-origin one.
//
//   node send.mjs <segment|rudderstack> <beacon url> <write key> <user id>
//
// Needs BEACON_TEST_NODE_MODULES (scripts/test installs the packages pinned
// in package.json beside this file into target/js) and Chromium
// (BEACON_TEST_CHROMIUM, default /usr/bin/chromium). Prints one JSON line:
// the calls Beacon answered, and any console error or failed request.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [sdk, beacon, writeKey, userId] = process.argv.slice(2);
const modules = process.env.BEACON_TEST_NODE_MODULES;
if (!sdk || !beacon || !writeKey || !userId || !modules) {
  console.error('usage: BEACON_TEST_NODE_MODULES=… node send.mjs <segment|rudderstack> <beacon url> <write key> <user id>');
  process.exit(2);
}
const require = createRequire(path.join(modules, 'x.js'));
const { chromium } = require('playwright-core');

const files = {
  [`/analytics.js/v1/${writeKey}/analytics.min.js`]: path.join(modules, '@segment/analytics-next/dist/umd/standalone.js'),
  '/rudder/analytics.js': path.join(modules, '@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js'),
};

// What the shop's page does: load the SDK, then a page view, a product
// view, a login (identify with the shop's user id and traits), and an order.
const calls = (a) => `
  ${a}.page('Product', {path_hint: 'pdp'});
  ${a}.track('Product Viewed', {product_id: 'sku-1', price: 25.5, currency: 'CNY'});
  ${a}.identify(${JSON.stringify(userId)}, {email: ${JSON.stringify(`${userId}@example.com`)}, name: '李雷'});
  ${a}.track('Order Completed', {order_id: ${JSON.stringify(`o-${userId}`)}, total: 25.5, currency: 'CNY',
    products: [{product_id: 'sku-1', price: 25.5, quantity: 1}]});
`;

// Segment's snippet (5.2), as a shop pastes it, with the two lines Segment
// documents for a self-hosted CDN: the script's own address and `_cdn`.
const segmentPage = `<!doctype html><html><head><title>Shop</title><script>
!function(){var i="analytics",analytics=window[i]=window[i]||[];if(!analytics.initialize)if(analytics.invoked)window.console&&console.error&&console.error("Segment snippet included twice.");else{analytics.invoked=!0;analytics.methods=["trackSubmit","trackClick","trackLink","trackForm","pageview","identify","reset","group","track","ready","alias","debug","page","screen","once","off","on","addSourceMiddleware","addIntegrationMiddleware","setAnonymousId","addDestinationMiddleware","register"];analytics.factory=function(e){return function(){if(window[i].initialized)return window[i][e].apply(window[i],arguments);var n=Array.prototype.slice.call(arguments);if(["track","screen","alias","group","page","identify"].indexOf(e)>-1){var c=document.querySelector("link[rel='canonical']");n.push({__t:"bpc",c:c&&c.getAttribute("href")||void 0,p:location.pathname,u:location.href,s:location.search,t:document.title,r:document.referrer})}n.unshift(e);analytics.push(n);return analytics}};for(var n=0;n<analytics.methods.length;n++){var key=analytics.methods[n];analytics[key]=analytics.factory(key)}analytics.load=function(key,n){var t=document.createElement("script");t.type="text/javascript";t.async=!0;t.setAttribute("data-global-segment-analytics-key",i);t.src="/analytics.js/v1/" + key + "/analytics.min.js";var r=document.getElementsByTagName("script")[0];r.parentNode.insertBefore(t,r);analytics._loadOptions=n};analytics._writeKey=${JSON.stringify(writeKey)};analytics._cdn=${JSON.stringify(beacon)};analytics.SNIPPET_VERSION="5.2.0";
analytics.load(${JSON.stringify(writeKey)});
${calls('analytics')}
}}();
</script></head><body>shop</body></html>`;

const rudderPage = `<!doctype html><html><head><title>Shop</title>
<script src="/rudder/analytics.js"></script><script>
var rudderanalytics = new window.rudderanalytics.RudderAnalytics();
rudderanalytics.load(${JSON.stringify(writeKey)}, ${JSON.stringify(beacon)}, {configUrl: ${JSON.stringify(beacon)}});
${calls('rudderanalytics')}
</script></head><body>shop</body></html>`;

const shop = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://shop');
  if (url.pathname === '/favicon.ico') {
    res.writeHead(204);
    res.end();
  } else if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(sdk === 'segment' ? segmentPage : rudderPage);
  } else if (files[url.pathname]) {
    res.writeHead(200, { 'content-type': 'application/javascript' });
    fs.createReadStream(files[url.pathname]).pipe(res);
  } else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((ok) => shop.listen(0, '127.0.0.1', ok));
const shopUrl = `http://127.0.0.1:${shop.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.BEACON_TEST_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync'],
});
const report = { sdk, answered: [], failed: [], errors: [] };
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') report.errors.push(m.text()); });
  page.on('pageerror', (e) => report.errors.push(String(e)));
  page.on('requestfailed', (r) => report.failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) report.failed.push(`${r.request().method()} ${r.url()}: ${r.status()}`);
    if (r.url().startsWith(beacon)) report.answered.push({ method: r.request().method(), path: new URL(r.url()).pathname, status: r.status() });
  });
  await page.goto(shopUrl);
  // Wait until Beacon has answered the four calls (or 20 s pass).
  const sends = () => report.answered.filter((a) => a.method === 'POST' && a.status === 200).length;
  for (let i = 0; i < 200 && sends() < 4; i++) await page.waitForTimeout(100);
  await page.waitForTimeout(300);
} finally {
  await browser.close();
  shop.close();
}
console.log(JSON.stringify(report));
