// The console's frame: who is logged in, the language, the navigation and
// the screen of the current address (#/…). Screens are modules with a
// `render(main, ctx)`; later issues add theirs to SCREENS and the nav.

import {api, get, setCsrf, ApiError} from './api.js';
import {h, mount} from './dom.js';
import {t, setLocale, locale, initialLocale, errorText} from './i18n.js';
import {setShop} from './format.js';
import * as login from './screens/login.js';
import * as dashboard from './screens/dashboard.js';
import * as account from './screens/account.js';
import * as customers from './screens/customers.js';
import * as customer from './screens/customer.js';
import * as promotions from './screens/promotions.js';
import * as simulator from './screens/simulator.js';
import * as admin from './screens/admin.js';
import * as orders from './screens/orders.js';
import * as products from './screens/products.js';
import * as imports from './screens/imports.js';
import * as loyalty from './screens/loyalty.js';
import * as segments from './screens/segments.js';
import * as insights from './screens/insights.js';

// `path` is the nav link; `match` the addresses the screen answers (its
// groups are passed as ctx.params).
const SCREENS = [
  {path: '#/', match: /^#\/?$/, nav: 'nav.dashboard', screen: dashboard},
  {path: '#/customers', match: /^#\/customers(?:\?.*)?$/, nav: 'nav.customers', screen: customers},
  {path: '#/customers', match: /^#\/customers\/([^/?]+)$/, nav: null, screen: customer, parent: 'nav.customers'},
  {path: '#/products', match: /^#\/products(?:\?.*)?$/, nav: 'nav.products', screen: products},
  {path: '#/products', match: /^#\/products\/([^/?]+)$/, nav: null, screen: products, parent: 'nav.products'},
  {path: '#/orders', match: /^#\/orders(?:\?.*)?$/, nav: 'nav.orders', screen: orders},
  {path: '#/orders', match: /^#\/orders\/([^/?]+)$/, nav: null, screen: orders, parent: 'nav.orders'},
  {path: '#/segments', match: /^#\/segments$/, nav: 'nav.segments', screen: segments},
  {path: '#/segments', match: /^#\/segments\/([^/?]+)$/, nav: null, screen: segments, parent: 'nav.segments'},
  {path: '#/insights', match: /^#\/insights$/, nav: 'nav.insights', screen: insights},
  {path: '#/promotions', match: /^#\/promotions(?:\/.*)?$/, nav: 'nav.promotions', screen: promotions},
  {path: '#/simulator', match: /^#\/simulator(?:\?.*)?$/, nav: 'nav.simulator', screen: simulator},
  {path: '#/loyalty', match: /^#\/loyalty$/, nav: 'nav.loyalty', screen: loyalty},
  {path: '#/import', match: /^#\/import$/, nav: 'nav.import', screen: imports, roles: ['admin', 'marketer']},
  {path: '#/admin', match: /^#\/admin$/, nav: 'nav.admin', screen: admin, roles: ['admin']},
  {path: '#/account', match: /^#\/account$/, nav: null, screen: account},
];

const root = document.getElementById('app');
let session = null;

async function boot() {
  setLocale(initialLocale(null));
  try {
    session = await get('/api/v1/session');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return showLogin();
    return fail(e);
  }
  if (session.kind !== 'user') return showLogin();
  setCsrf(session.csrf_token);
  setLocale(initialLocale(session.user.locale));
  try {
    setShop(await get('/api/v1/shop'));
  } catch (e) {
    return fail(e);
  }
  render();
}

function showLogin() {
  session = null;
  login.render(root, {onLogin: (s) => { session = s; setCsrf(s.csrf_token); boot(); }});
}

function fail(e) {
  mount(root, h('main', {class: 'center'}, h('p', {class: 'error', role: 'alert'}, errorText(e)),
    h('button', {onclick: boot}, t('common.retry'))));
}

function switchLanguage() {
  setLocale(locale() === 'zh-CN' ? 'en' : 'zh-CN', true);
  render();
}

async function logout() {
  try { await api('DELETE', '/api/v1/session'); } catch { /* the session may be gone already */ }
  setCsrf(null);
  showLogin();
}

function current() {
  const hash = location.hash || '#/';
  for (const s of SCREENS) {
    const m = s.match.exec(hash);
    if (m) return {...s, params: m.slice(1).map(decodeURIComponent)};
  }
  return {...SCREENS[0], params: []};
}

function render() {
  if (!session) return showLogin();
  const here = current();
  const main = h('main', {id: 'main', tabindex: '-1'});
  const nav = h('nav', {'aria-label': t('nav.main')},
    h('ul', {}, SCREENS.filter((s) => s.nav && (!s.roles || s.roles.includes(session.role))).map((s) => h('li', {},
      h('a', {href: s.path, 'aria-current': s.nav === (here.nav || here.parent) ? 'page' : null}, t(s.nav))))));
  const header = h('header', {class: 'top'},
    h('a', {class: 'skip', href: '#main', onclick: (e) => { e.preventDefault(); main.focus(); }}, t('nav.skip')),
    h('span', {class: 'brand'}, t('app.name')),
    h('span', {class: 'spacer'}),
    h('button', {class: 'link', id: 'lang', onclick: switchLanguage, 'aria-label': t('lang.label'), lang: locale() === 'zh-CN' ? 'en' : 'zh-CN'}, t('lang.switch')),
    h('a', {href: '#/account', class: 'user'}, session.user.name, ' · ', t('role.' + session.role)),
    h('button', {class: 'link', id: 'logout', onclick: logout}, t('nav.logout')));
  mount(root, header, h('div', {class: 'layout'}, nav, main));
  document.title = `${t(here.nav || here.parent || 'nav.account')} · Beacon`;
  here.screen.render(main, {session, params: here.params, onSessionEnd: showLogin});
}

window.addEventListener('hashchange', render);
window.addEventListener('unhandledrejection', (event) => {
  if (event.reason instanceof ApiError && event.reason.status === 401) showLogin();
});
boot();
