// Customers: find one person by any identity (a phone number, an email, a
// user id, a WeChat openid/unionid, a device or anonymous id; the type is
// guessed from the text or picked), or browse the profiles with filters
// kept in the address (#/customers?min_events=3), a page at a time.
// Also the pieces the customer 360 (customer.js) shares: names, identity
// kinds, paged tables.

import {get, query} from '../api.js';
import {h, mount, field, fieldError} from '../dom.js';
import {t, register, errorText, locale} from '../i18n.js';
import {money, number, dateTime, shopInfo} from '../format.js';
import {pager, loadInto, jsonText} from '../widgets.js';

register({
  'zh-CN': {
    'cust.title': '客户', 'cust.find': '查找客户', 'cust.query': '客户标识',
    'cust.query_hint': '手机号、邮箱、用户 ID、微信 OpenID / UnionID、设备或匿名 ID',
    'cust.kind': '标识类型', 'cust.kind.auto': '自动识别',
    'cust.kind.phone': '手机号', 'cust.kind.email': '邮箱', 'cust.kind.user_id': '用户 ID',
    'cust.kind.anonymous_id': '匿名 ID', 'cust.kind.device_id': '设备 ID',
    'cust.kind.openid': '微信 OpenID', 'cust.kind.unionid': '微信 UnionID',
    'cust.search': '查找', 'cust.searching': '正在查找…', 'cust.empty_query': '请输入要查找的标识',
    'cust.not_found': '没有找到{kinds}为“{value}”的客户。',
    'cust.many': '{n} 位客户的{kind}是“{value}”：', 'cust.opening': '找到了，正在打开客户详情…',
    'cust.list': '全部客户', 'cust.filters': '筛选客户',
    'cust.seen_after': '最后活跃不早于', 'cust.seen_before': '最后活跃早于',
    'cust.min_events': '事件数至少', 'cust.has_trait': '有此属性', 'cust.tag': '有此标签', 'cust.has_trait_hint': '属性名，如 vip',
    'cust.apply': '筛选', 'cust.clear': '清除筛选', 'cust.filtered': '已筛选：{what}',
    'cust.col.name': '客户', 'cust.col.contact': '邮箱 / 手机', 'cust.col.events': '事件数',
    'cust.col.orders': '订单数', 'cust.col.spend': '消费总额', 'cust.col.last_seen': '最后活跃',
  },
  en: {
    'cust.title': 'Customers', 'cust.find': 'Find a customer', 'cust.query': 'Customer identity',
    'cust.query_hint': 'A phone number, email, user id, WeChat OpenID / UnionID, device or anonymous id',
    'cust.kind': 'Identity type', 'cust.kind.auto': 'Guess from the text',
    'cust.kind.phone': 'Phone', 'cust.kind.email': 'Email', 'cust.kind.user_id': 'User id',
    'cust.kind.anonymous_id': 'Anonymous id', 'cust.kind.device_id': 'Device id',
    'cust.kind.openid': 'WeChat OpenID', 'cust.kind.unionid': 'WeChat UnionID',
    'cust.search': 'Find', 'cust.searching': 'Searching…', 'cust.empty_query': 'Type an identity to look for',
    'cust.not_found': 'No customer has {kinds} “{value}”.',
    'cust.many': '{n} customers have {kind} “{value}”:', 'cust.opening': 'Found: opening the customer…',
    'cust.list': 'All customers', 'cust.filters': 'Filter customers',
    'cust.seen_after': 'Last seen on or after', 'cust.seen_before': 'Last seen before',
    'cust.min_events': 'At least this many events', 'cust.has_trait': 'Has the trait', 'cust.tag': 'Has the tag', 'cust.has_trait_hint': 'A trait name, such as vip',
    'cust.apply': 'Filter', 'cust.clear': 'Clear filters', 'cust.filtered': 'Filtered: {what}',
    'cust.col.name': 'Customer', 'cust.col.contact': 'Email / phone', 'cust.col.events': 'Events',
    'cust.col.orders': 'Orders', 'cust.col.spend': 'Total spend', 'cust.col.last_seen': 'Last seen',
  },
});

/** Identity kinds the search offers, in the order a guess tries them. */
export const KINDS = ['phone', 'email', 'user_id', 'anonymous_id', 'openid', 'unionid', 'device_id'];

/** An identity kind in words (a shop's own kind, e.g. member_no, as is). */
export function kindLabel(kind) {
  const key = 'cust.kind.' + kind;
  const text = t(key);
  return text === key ? kind : text;
}

/** What to call a customer: a name trait, else their first identity. */
export function displayName(p) {
  const tr = p.traits || {};
  const full = [tr.first_name, tr.last_name].filter((x) => x != null && x !== '').map(jsonText).join(' ');
  const name = [tr.name, tr.nickname, full, tr.username].find((x) => x != null && x !== '');
  if (name != null) return jsonText(name);
  const first = (p.identities || [])[0];
  return first ? `${kindLabel(first.type)} ${first.value}` : p.id;
}

/** The values of a kind among the profile's identities (else its trait). */
export function identityValues(p, kind) {
  const found = (p.identities || []).filter((i) => i.type === kind).map((i) => i.value);
  if (!found.length && p.traits && p.traits[kind] != null) found.push(jsonText(p.traits[kind]));
  return found;
}

/** Money the API sends as {amount, currency}. */
export function amount(m) {
  return m ? money(m.amount, m.currency) : '—';
}

/** Kinds to try for the text: a phone number, an email, else ids in turn. */
export function guessKinds(text) {
  const ids = KINDS.filter((k) => k !== 'phone' && k !== 'email');
  if (/^\+?[\d\s\-().]+$/.test(text) && /\d{5}/.test(text.replace(/\D/g, ''))) return ['phone', ...ids];
  if (text.includes('@')) return ['email'];
  return ids;
}

/**
 * A pager whose first page is fetched before it is shown, so that a
 * section that cannot load fails inside `loadInto` (its error shown there).
 */
export async function paged(fetchPage, show) {
  let first = await fetchPage(null);
  return pager((cursor) => {
    if (first && cursor == null) {
      const page = first;
      first = null;
      return Promise.resolve(page);
    }
    return fetchPage(cursor);
  }, show);
}

/** A table whose rows arrive a page at a time (hidden while empty). */
export async function pagedTable(columns, fetchPage, caption) {
  const body = h('tbody');
  const tbl = h('table', {hidden: true}, h('caption', {class: 'sr-only'}, caption),
    h('thead', {}, h('tr', {}, columns.map(([head]) => h('th', {scope: 'col'}, head)))), body);
  const more = await paged(fetchPage, (items) => {
    if (items.length) tbl.hidden = false;
    body.append(...items.map((r) => h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(r))))));
    return document.createDocumentFragment();
  });
  return h('div', {}, h('div', {class: 'cust-scroll'}, tbl), more);
}

/** `a or b or c` in the current language. */
function either(words) {
  return new Intl.ListFormat(locale(), {type: 'disjunction'}).format(words);
}

/** The filters in the address (#/customers?min_events=3…), checked. */
function filtersFromHash() {
  const q = new URLSearchParams((location.hash.split('?')[1]) || '');
  const day = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v || '') ? v : '');
  const events = q.get('min_events') || '';
  return {
    seen_after: day(q.get('seen_after')),
    seen_before: day(q.get('seen_before')),
    min_events: /^\d+$/.test(events) ? events : '',
    has_trait: (q.get('has_trait') || '').trim(),
    tag: (q.get('tag') || '').trim(),
  };
}

/** Midnight of a shop day, as an instant the API takes. */
function shopMidnight(ymd) {
  const offset = shopInfo().utc_offset || 'Z';
  return ymd ? `${ymd}T00:00:00${offset}` : null;
}

export function render(main) {
  const filters = filtersFromHash();
  const results = h('div', {class: 'cust-results', role: 'status'});
  mount(main, h('h1', {}, t('cust.title')), searchForm(results), results, listSection(main, filters));
}

function searchForm(results) {
  const input = h('input', {type: 'search', name: 'identity', autocomplete: 'off', spellcheck: 'false', required: true});
  const kind = h('select', {name: 'kind'}, h('option', {value: ''}, t('cust.kind.auto')),
    KINDS.map((k) => h('option', {value: k}, kindLabel(k))));
  const submit = h('button', {type: 'submit', class: 'primary'}, t('cust.search'));
  const form = h('form', {class: 'card', role: 'search', 'aria-labelledby': 'cust-find', novalidate: true},
    h('h2', {id: 'cust-find'}, t('cust.find')),
    h('div', {class: 'toolbar cust-search'}, field(t('cust.query'), input, t('cust.query_hint')), field(t('cust.kind'), kind), submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    fieldError(input, '');
    if (!text) {
      fieldError(input, t('cust.empty_query'));
      input.focus();
      return;
    }
    submit.disabled = true;
    mount(results, h('p', {class: 'muted'}, t('cust.searching')));
    try {
      showHits(results, text, await search(text, kind.value));
    } catch (err) {
      mount(results, h('p', {class: 'error', role: 'alert'}, errorText(err)));
    }
    submit.disabled = false;
  });
  return form;
}

/**
 * Looks the text up as `kind`, or as each guessed kind in turn until one
 * finds someone (a guess the text cannot be, e.g. not a phone number, is
 * skipped).
 */
async function search(text, kind) {
  const kinds = kind ? [kind] : guessKinds(text);
  for (const k of kinds) {
    let page;
    try {
      page = await get(query('/api/v1/profiles', {identity: `${k}:${text}`}));
    } catch (err) {
      if (!kind && (err.code === 'invalid_identity' || err.code === 'invalid_parameter')) continue;
      throw err;
    }
    if (page.items.length) return {kind: k, items: page.items, tried: kinds};
  }
  return {kind: null, items: [], tried: kinds};
}

function showHits(results, text, found) {
  if (found.items.length === 1) {
    mount(results, h('p', {class: 'muted'}, t('cust.opening')));
    location.hash = '#/customers/' + encodeURIComponent(found.items[0].id);
    return;
  }
  if (!found.items.length) {
    mount(results, h('p', {}, t('cust.not_found', {kinds: either(found.tried.map(kindLabel)), value: text})));
    return;
  }
  mount(results, h('div', {class: 'card'},
    h('p', {}, t('cust.many', {n: found.items.length, kind: kindLabel(found.kind), value: text})),
    h('ul', {}, found.items.map((p) => h('li', {}, profileLink(p), ' · ', dateTime(p.last_seen))))));
}

function profileLink(p) {
  return h('a', {href: '#/customers/' + encodeURIComponent(p.id)}, displayName(p));
}

function listSection(main, filters) {
  const input = (type, value, extra) => h('input', {type, value, ...extra});
  const after = input('date', filters.seen_after, {name: 'seen_after'});
  const before = input('date', filters.seen_before, {name: 'seen_before'});
  const events = input('number', filters.min_events, {name: 'min_events', min: 0, step: 1, inputmode: 'numeric'});
  const trait = input('text', filters.has_trait, {name: 'has_trait', autocomplete: 'off', spellcheck: 'false'});
  // the tags profiles hold, offered as the tag filter is typed
  const known = h('datalist', {id: 'cust-tags'});
  get('/api/v1/tags').then(({items}) => mount(known, [...new Set(items.map((x) => x.tag))].map((x) => h('option', {value: x}))), () => {});
  const tag = input('text', filters.tag, {name: 'tag', list: 'cust-tags', autocomplete: 'off', spellcheck: 'false'});
  const go = (values) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(values)) if (v) q.set(k, v);
    const hash = '#/customers' + (q.toString() ? '?' + q : '');
    if (location.hash === hash) render(main); else location.hash = hash;
  };
  const form = h('form', {class: 'toolbar', 'aria-label': t('cust.filters')},
    field(t('cust.seen_after'), after), field(t('cust.seen_before'), before),
    field(t('cust.min_events'), events), field(t('cust.has_trait'), trait, t('cust.has_trait_hint')),
    field(t('cust.tag'), tag), known,
    h('div', {class: 'cust-actions'}, h('button', {type: 'submit'}, t('cust.apply')),
      h('button', {type: 'button', class: 'link', onclick: () => go({})}, t('cust.clear'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go({seen_after: after.value, seen_before: before.value, min_events: events.value.trim(), has_trait: trait.value.trim(),
      tag: tag.value.trim()});
  });
  const active = [
    filters.seen_after && `${t('cust.seen_after')} ${filters.seen_after}`,
    filters.seen_before && `${t('cust.seen_before')} ${filters.seen_before}`,
    filters.min_events && `${t('cust.min_events')} ${filters.min_events}`,
    filters.has_trait && `${t('cust.has_trait')} ${filters.has_trait}`,
    filters.tag && `${t('cust.tag')} ${filters.tag}`,
  ].filter(Boolean);
  const box = h('div');
  const section = h('section', {class: 'card', 'aria-labelledby': 'cust-list'}, h('h2', {id: 'cust-list'}, t('cust.list')),
    form, active.length ? h('p', {class: 'muted'}, t('cust.filtered', {what: active.join(locale() === 'zh-CN' ? '；' : '; ')})) : null, box);
  const params = {
    seen_after: shopMidnight(filters.seen_after),
    seen_before: shopMidnight(filters.seen_before),
    min_events: filters.min_events,
    has_trait: filters.has_trait,
    tag: filters.tag,
    limit: 25,
  };
  const columns = [
    [t('cust.col.name'), profileLink],
    [t('cust.col.contact'), (p) => [...identityValues(p, 'email'), ...identityValues(p, 'phone')]
      .map((v, i) => [i ? h('br') : null, v])],
    [t('cust.col.events'), (p) => number(p.event_count)],
    [t('cust.col.orders'), (p) => number(p.order_count)],
    [t('cust.col.spend'), (p) => amount(p.total_spend)],
    [t('cust.col.last_seen'), (p) => dateTime(p.last_seen)],
  ];
  loadInto(box, () => pagedTable(columns, (cursor) => get(query('/api/v1/profiles', {...params, cursor})), t('cust.list')));
  return section;
}
