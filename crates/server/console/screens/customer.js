// Customer 360 (#/customers/<profile id>): who the person is (identities,
// first and last seen, events, orders, spend), their traits, merges, event
// timeline, orders with lines and refunds, coupon wallet, points and
// reviews. Each section loads on its own: one failing shows its error and
// the others still show. A merged-away id answers its survivor, shown as
// such. Everything the API sends is shown as text, never parsed as HTML.

import {get, post, query} from '../api.js';
import {h, mount, field} from '../dom.js';
import {t, register, errorText} from '../i18n.js';
import {money, number, dateTime} from '../format.js';
import {loadInto, badge, facts, jsonText, table} from '../widgets.js';
import {displayName, kindLabel, amount, paged, pagedTable} from './customers.js';
import {tagsCard} from './tags.js';

register({
  'zh-CN': {
    'c360.title': '客户详情', 'c360.summary': '概况', 'c360.back': '返回客户列表', 'c360.identities': '身份标识',
    'c360.verified': '已验证', 'c360.unverified': '未验证（客户端上报）',
    'c360.first_seen': '首次活跃', 'c360.last_seen': '最后活跃', 'c360.events': '事件数', 'c360.orders': '订单数',
    'c360.spend': '消费总额', 'c360.aov': '客单价', 'c360.first_order': '首次下单', 'c360.last_order': '最近下单',
    'c360.by_currency': '各币种消费', 'c360.id': '客户 ID',
    'c360.merged_into': '你打开的 ID {old} 已合并到另一位客户，下面显示合并后的客户。',
    'c360.traits': '属性', 'c360.trait': '属性名', 'c360.value': '值',
    'c360.merges': '合并记录', 'c360.merged_id': '被合并的客户 ID', 'c360.at': '时间', 'c360.reason': '原因',
    'c360.reason.alias': '别名（alias）：{id}', 'c360.reason.shared_identity': '共同标识：{kind} {value}',
    'c360.timeline': '行为时间线', 'c360.details': '事件内容', 'c360.type.track': '行为', 'c360.type.identify': '识别',
    'c360.type.page': '页面浏览', 'c360.type.screen': '屏幕浏览', 'c360.type.group': '群组', 'c360.type.alias': '别名',
    'c360.product': '商品 {id}',
    'c360.order_list': '订单', 'c360.order': '订单 {id}', 'c360.status.completed': '已完成',
    'c360.status.partially_refunded': '部分退款', 'c360.status.refunded': '已退款', 'c360.status.cancelled': '已取消',
    'c360.total': '订单金额', 'c360.discount': '优惠', 'c360.refunded': '已退款', 'c360.net': '实收', 'c360.coupon': '优惠券',
    'c360.lines': '商品明细', 'c360.item': '商品', 'c360.sku': 'SKU', 'c360.price': '单价', 'c360.quantity': '数量',
    'c360.paid': '实付', 'c360.refunded_quantity': '已退数量',
    'c360.after_sales': '售后与退款', 'c360.kind': '类型', 'c360.kind.refund': '退款', 'c360.kind.cancel': '取消',
    'c360.outcome': '处理结果', 'c360.outcome.applied': '已生效', 'c360.amount': '金额', 'c360.no_after_sales': '没有售后记录',
    'c360.audience': '人群与价值', 'c360.tags': '标签', 'c360.stage': '生命周期', 'c360.rfm': 'RFM 价值分组', 'c360.rfm_scores': 'R/F/M 评分',
    'c360.rfm_figures': '{days} 天前下单，{orders} 单，{spend}', 'c360.segments': '所在人群', 'c360.no_segments': '不在任何已保存的人群中。',
    'c360.teams': '拼团', 'c360.team': '团', 'c360.team_status': '状态', 'c360.team.open': '拼团中', 'c360.team.complete': '已成团', 'c360.team.failed': '未成团',
    'c360.team_members': '人数', 'c360.team_until': '截止', 'c360.promotion': '活动',
    'c360.coupons': '优惠券', 'c360.coupon_status': '券状态', 'c360.all': '全部', 'c360.coupon.available': '可使用',
    'c360.coupon.used': '已使用', 'c360.coupon.expired': '已过期', 'c360.code': '券码', 'c360.promotion': '活动',
    'c360.valid_until': '有效期至', 'c360.issued_at': '发放时间', 'c360.channel': '渠道',
    'c360.points': '积分', 'c360.available': '可用积分', 'c360.pending': '待生效积分', 'c360.debt': '欠扣积分',
    'c360.tier': '会员等级', 'c360.next_expiry': '即将过期', 'c360.expiry': '{points} 分于 {at} 过期',
    'c360.lots': '积分明细', 'c360.source': '来源', 'c360.earned': '获得', 'c360.left': '剩余',
    'c360.earned_at': '获得时间', 'c360.vests_at': '生效时间', 'c360.expires_at': '过期时间',
    'c360.reviews': '评价', 'c360.rating': '评分', 'c360.text': '内容',
    'c360.template': '发放优惠券', 'c360.give': '发一张券', 'c360.given': '已发放券码 {code}。', 'c360.not_given': '未发放：{reason}',
  },
  en: {
    'c360.title': 'Customer', 'c360.summary': 'Overview', 'c360.back': 'Back to customers', 'c360.identities': 'Identities',
    'c360.verified': 'verified', 'c360.unverified': 'unverified (a client said so)',
    'c360.first_seen': 'First seen', 'c360.last_seen': 'Last seen', 'c360.events': 'Events', 'c360.orders': 'Orders',
    'c360.spend': 'Total spend', 'c360.aov': 'Average order value', 'c360.first_order': 'First order', 'c360.last_order': 'Last order',
    'c360.by_currency': 'Spend per currency', 'c360.id': 'Customer id',
    'c360.merged_into': 'The id you opened, {old}, was merged into another customer: this is that customer.',
    'c360.traits': 'Traits', 'c360.trait': 'Trait', 'c360.value': 'Value',
    'c360.merges': 'Merge history', 'c360.merged_id': 'Merged customer id', 'c360.at': 'When', 'c360.reason': 'Why',
    'c360.reason.alias': 'alias of {id}', 'c360.reason.shared_identity': 'shared identity: {kind} {value}',
    'c360.timeline': 'Event timeline', 'c360.details': 'Event data', 'c360.type.track': 'action', 'c360.type.identify': 'identify',
    'c360.type.page': 'page view', 'c360.type.screen': 'screen view', 'c360.type.group': 'group', 'c360.type.alias': 'alias',
    'c360.product': 'product {id}',
    'c360.order_list': 'Orders', 'c360.order': 'Order {id}', 'c360.status.completed': 'completed',
    'c360.status.partially_refunded': 'partly refunded', 'c360.status.refunded': 'refunded', 'c360.status.cancelled': 'cancelled',
    'c360.total': 'Total', 'c360.discount': 'Discount', 'c360.refunded': 'Refunded', 'c360.net': 'Net', 'c360.coupon': 'Coupon',
    'c360.lines': 'Lines', 'c360.item': 'Product', 'c360.sku': 'SKU', 'c360.price': 'Price', 'c360.quantity': 'Quantity',
    'c360.paid': 'Paid', 'c360.refunded_quantity': 'Refunded quantity',
    'c360.after_sales': 'After-sales and refunds', 'c360.kind': 'Kind', 'c360.kind.refund': 'refund', 'c360.kind.cancel': 'cancellation',
    'c360.outcome': 'Outcome', 'c360.outcome.applied': 'applied', 'c360.amount': 'Amount', 'c360.no_after_sales': 'No after-sales',
    'c360.audience': 'Segments and value', 'c360.tags': 'Tags', 'c360.stage': 'Lifecycle stage', 'c360.rfm': 'RFM value group', 'c360.rfm_scores': 'R/F/M scores',
    'c360.rfm_figures': 'last ordered {days} days ago, {orders} orders, {spend}', 'c360.segments': 'Segments', 'c360.no_segments': 'In no saved segment.',
    'c360.teams': 'Group-buy teams', 'c360.team': 'Team', 'c360.team_status': 'Status', 'c360.team.open': 'open', 'c360.team.complete': 'complete', 'c360.team.failed': 'failed',
    'c360.team_members': 'Members', 'c360.team_until': 'Closes', 'c360.promotion': 'Promotion',
    'c360.coupons': 'Coupons', 'c360.coupon_status': 'Coupon status', 'c360.all': 'All', 'c360.coupon.available': 'available',
    'c360.coupon.used': 'used', 'c360.coupon.expired': 'expired', 'c360.code': 'Code', 'c360.promotion': 'Promotion',
    'c360.valid_until': 'Valid until', 'c360.issued_at': 'Issued', 'c360.channel': 'Channel',
    'c360.points': 'Points', 'c360.available': 'Available', 'c360.pending': 'Pending', 'c360.debt': 'Owed',
    'c360.tier': 'Tier', 'c360.next_expiry': 'Expiring next', 'c360.expiry': '{points} points expire {at}',
    'c360.lots': 'Points lots', 'c360.source': 'Source', 'c360.earned': 'Earned', 'c360.left': 'Left',
    'c360.earned_at': 'Earned at', 'c360.vests_at': 'Usable from', 'c360.expires_at': 'Expires',
    'c360.reviews': 'Reviews', 'c360.rating': 'Rating', 'c360.text': 'Text',
    'c360.template': 'Give a coupon', 'c360.give': 'Give one code', 'c360.given': 'Code {code} given.', 'c360.not_given': 'Not given: {reason}',
  },
});

const enc = encodeURIComponent;
/** A word for a code (`prefix.code`), or the code itself if there is none. */
const word = (prefix, code) => (code == null ? '—' : t(`${prefix}.${code}`) === `${prefix}.${code}` ? String(code) : t(`${prefix}.${code}`));
const none = () => h('p', {class: 'muted'}, t('common.none'));
const scroll = (node) => h('div', {class: 'cust-scroll'}, node);
const time = (iso) => (iso ? h('time', {datetime: iso}, dateTime(iso)) : '—');

/** A titled card whose body `load` fills (see `loadInto`); `extra` goes under the title. */
function section(key, load, extra) {
  const id = 'c360-' + key.split('.')[1];
  const box = h('div', {class: 'c360-body'});
  const el = h('section', {class: 'card', 'aria-labelledby': id}, h('h2', {id}, t(key)), extra, box);
  loadInto(box, load);
  return el;
}

export function render(main, {params, session}) {
  const asked = params[0];
  const title = h('h1', {class: 'c360-title'}, t('c360.title'));
  const profile = get('/api/v1/profiles/' + enc(asked));
  // the sections use the survivor's id once known (the asked one if the profile cannot load)
  const live = profile.then((p) => p.id, () => asked);
  profile.then((p) => {
    title.textContent = displayName(p);
    document.title = `${displayName(p)} · ${t('nav.customers')} · Beacon`;
  }, () => {});
  const canGive = session && ['admin', 'marketer'].includes(session.role);
  const [coupons, couponFilter] = couponSection(live, canGive);
  mount(main,
    h('p', {class: 'c360-back'}, h('a', {href: '#/customers'}, '← ', t('c360.back'))), title,
    section('c360.summary', async () => summary(await profile, asked)),
    h('div', {class: 'grid2'},
      section('c360.traits', async () => traits(await profile)),
      section('c360.points', async () => points(await get(`/api/v1/profiles/${enc(await live)}/points`)))),
    section('c360.timeline', async () => timeline(await live)),
    section('c360.order_list', async () => orders(await live)),
    h('div', {class: 'grid2'},
      section('c360.coupons', coupons, couponFilter),
      section('c360.merges', async () => merges(await profile))),
    h('div', {class: 'grid2'},
      section('c360.audience', async () => audience(await profile, await get(`/api/v1/profiles/${enc(await live)}/segments`))),
      section('c360.tags', async () => tagsCard(await live, canGive))),
    section('c360.teams', async () => teams(await get(`/api/v1/profiles/${enc(await live)}/teams`))),
    section('c360.reviews', async () => reviews(await live)));
}

function summary(p, asked) {
  const unverified = new Set((p.unverified || []).map((i) => `${i.type}:${i.value}`));
  const all = [...(p.identities || [])];
  for (const i of p.unverified || []) if (!all.some((j) => j.type === i.type && j.value === i.value)) all.push(i);
  const ids = h('ul', {class: 'c360-ids'}, all.map((i) => h('li', {},
    h('span', {class: 'c360-kind'}, kindLabel(i.type)), ' ', h('span', {class: 'c360-value'}, i.value), ' ',
    unverified.has(`${i.type}:${i.value}`) ? badge(t('c360.unverified'), 'warn') : badge(t('c360.verified'), 'ok'))));
  const perCurrency = (p.spend_by_currency || []).length > 1
    ? p.spend_by_currency.map((c) => `${money(c.spend, c.currency)} (${number(c.orders)})`).join(' · ') : null;
  return [
    p.id !== asked ? h('p', {class: 'c360-note', role: 'note'}, t('c360.merged_into', {old: asked})) : null,
    h('h3', {}, t('c360.identities')), all.length ? ids : none(),
    facts([
      [t('c360.id'), p.id],
      [t('c360.first_seen'), time(p.first_seen)], [t('c360.last_seen'), time(p.last_seen)],
      [t('c360.events'), number(p.event_count)], [t('c360.orders'), number(p.order_count)],
      [t('c360.spend'), amount(p.total_spend)], [t('c360.aov'), amount(p.average_order_value)],
      [t('c360.by_currency'), perCurrency],
      [t('c360.first_order'), p.first_order_at ? time(p.first_order_at) : null],
      [t('c360.last_order'), p.last_order_at ? time(p.last_order_at) : null],
    ]),
  ];
}

function traits(p) {
  const entries = Object.entries(p.traits || {});
  if (!entries.length) return none();
  return scroll(table([[t('c360.trait'), ([k]) => k], [t('c360.value'), ([, v]) => jsonText(v)]], entries, t('c360.traits')));
}

function merges(p) {
  if (!(p.merges || []).length) return none();
  const reason = (r) => (r && r.kind === 'alias' ? t('c360.reason.alias', {id: r.previous_id})
    : r && r.kind === 'shared_identity' ? t('c360.reason.shared_identity', {kind: kindLabel(r.identity?.type), value: r.identity?.value})
      : jsonText(r));
  return scroll(table([
    [t('c360.merged_id'), (m) => m.merged_id], [t('c360.at'), (m) => time(m.at)], [t('c360.reason'), (m) => reason(m.reason)],
  ], p.merges, t('c360.merges')));
}

/** What an event carried: a track's properties, an identify's traits, else the message. */
function eventData(e) {
  const m = e.message || {};
  return m.properties ?? m.traits ?? m;
}

async function timeline(id) {
  const list = h('ol', {class: 'c360-timeline'});
  const more = await paged((cursor) => get(query(`/api/v1/profiles/${enc(id)}/events`, {cursor, limit: 20})), (items) => {
    list.append(...items.map((e) => h('li', {},
      h('div', {class: 'c360-event'}, h('strong', {}, e.name || word('c360.type', e.type)), ' ',
        e.name ? badge(word('c360.type', e.type)) : null, e.product ? h('span', {class: 'muted'}, ' ', t('c360.product', {id: e.product})) : null,
        ' ', h('span', {class: 'muted'}, time(e.timestamp))),
      h('details', {}, h('summary', {}, t('c360.details')), h('pre', {class: 'json'}, JSON.stringify(eventData(e), null, 2))))));
    return document.createDocumentFragment();
  });
  return [list, more];
}

const statusKind = {completed: 'ok', partially_refunded: 'warn', refunded: 'bad', cancelled: 'bad'};

async function orders(id) {
  const list = h('div', {class: 'c360-orders'});
  const more = await paged((cursor) => get(query('/api/v1/orders', {profile: id, cursor, limit: 20})), (items) => {
    list.append(...items.map(order));
    return document.createDocumentFragment();
  });
  return [list, more];
}

function order(o) {
  const cur = o.currency;
  const afterSales = h('div', {class: 'c360-after'});
  let loaded = false;
  const el = h('details', {class: 'c360-order'},
    h('summary', {}, h('span', {class: 'c360-order-id'}, t('c360.order', {id: o.order_id})), ' ',
      badge(word('c360.status', o.status), statusKind[o.status]), ' ', money(o.total, cur), ' · ', time(o.placed_at)),
    facts([[t('c360.total'), money(o.total, cur)], [t('c360.discount'), money(o.discount, cur)],
      [t('c360.refunded'), money(o.refunded, cur)], [t('c360.net'), money(o.net, cur)], [t('c360.coupon'), o.coupon]]),
    h('h3', {}, t('c360.lines')),
    scroll(table([
      [t('c360.item'), (l) => l.name || l.product_id || l.sku || '—'], [t('c360.sku'), (l) => l.sku || '—'],
      [t('c360.price'), (l) => money(l.price, cur)], [t('c360.quantity'), (l) => number(l.quantity)],
      [t('c360.paid'), (l) => money(l.paid, cur)], [t('c360.refunded_quantity'), (l) => number(l.refunded_quantity)],
    ], o.lines || [], t('c360.lines'))),
    h('h3', {}, t('c360.after_sales')), afterSales);
  // the refunds and cancellations come with the one order: read when opened
  el.addEventListener('toggle', () => {
    if (!el.open || loaded) return;
    loaded = true;
    loadInto(afterSales, async () => {
      const full = await get('/api/v1/orders/' + enc(o.order_id));
      if (!(full.after_sales || []).length) return h('p', {class: 'muted'}, t('c360.no_after_sales'));
      return scroll(table([
        [t('c360.kind'), (a) => word('c360.kind', a.kind)], [t('c360.outcome'), (a) => word('c360.outcome', a.outcome)],
        [t('c360.amount'), (a) => (a.amount != null ? money(a.amount, a.currency || cur) : '—')],
        [t('c360.reason'), (a) => a.reason || '—'], [t('c360.at'), (a) => time(a.at)],
      ], full.after_sales, t('c360.after_sales')));
    });
  });
  return el;
}

function couponSection(live, canGive) {
  const status = h('select', {name: 'coupon_status'}, h('option', {value: ''}, t('c360.all')),
    ['available', 'used', 'expired'].map((s) => h('option', {value: s}, word('c360.coupon', s))));
  let box = null;
  const load = async () => {
    const id = await live;
    const w = await get(query(`/api/v1/profiles/${enc(id)}/coupons`, {status: status.value}));
    if (!w.items.length) return none();
    const kinds = {available: 'ok', used: null, expired: 'bad'};
    return scroll(table([
      [t('c360.code'), (c) => c.code], [t('c360.promotion'), (c) => c.name || c.promotion],
      [t('c360.coupon_status'), (c) => badge(word('c360.coupon', c.status), kinds[c.status])],
      [t('c360.valid_until'), (c) => time(c.valid_until)], [t('c360.issued_at'), (c) => time(c.issued_at)],
      [t('c360.channel'), (c) => c.channel || '—'],
    ], w.items, t('c360.coupons')));
  };
  const reload = () => {
    box ??= status.closest('section').querySelector('.c360-body');
    loadInto(box, load);
  };
  status.addEventListener('change', reload);
  return [load, h('div', {class: 'toolbar'}, field(t('c360.coupon_status'), status), canGive ? giveCoupon(live, reload) : null)];
}

/** 发券: one code of an active coupon template into this customer's wallet. */
function giveCoupon(live, done) {
  const template = h('select', {name: 'coupon_template'}, h('option', {value: ''}, '…'));
  const give = h('button', {type: 'button', disabled: true}, t('c360.give'));
  const said = h('p', {role: 'status', class: 'c360-give-status'});
  get(query('/api/v1/promotions', {status: 'active', limit: 200})).then((page) => {
    for (const p of page.items.filter((p) => p.spec && p.spec.codes)) template.append(h('option', {value: p.id}, p.spec.name));
    give.disabled = template.options.length < 2;
  }, () => {});
  give.addEventListener('click', async () => {
    if (!template.value) return;
    said.textContent = '';
    try {
      const r = await post(`/api/v1/promotions/${enc(template.value)}/coupons`, {profiles: [await live]});
      said.textContent = r.issued.length ? t('c360.given', {code: r.issued[0].code}) : t('c360.not_given', {reason: jsonText(r.refused[0] && r.refused[0].reason)});
      done();
    } catch (e) {
      said.textContent = errorText(e);
    }
  });
  return [field(t('c360.template'), template), give, said];
}

function teams(r) {
  if (!r.items.length) return h('p', {class: 'muted'}, t('common.none'));
  return table([
    [t('c360.team'), (x) => h('code', {}, x.id)],
    [t('c360.promotion'), (x) => h('a', {href: '#/promotions/' + enc(x.promotion)}, x.promotion)],
    [t('c360.team_status'), (x) => badge(t('c360.team.' + x.status), x.status === 'complete' ? 'ok' : null)],
    [t('c360.team_members'), (x) => `${number(x.member_count)} / ${number(x.min_members)}`],
    [t('c360.team_until'), (x) => dateTime(x.completed_at || x.expires_at)],
  ], r.items, t('c360.teams'));
}

function points(pt) {
  const expiry = pt.next_expiry ? t('c360.expiry', {points: number(pt.next_expiry.points), at: dateTime(pt.next_expiry.expires_at)}) : null;
  const lots = pt.lots || [];
  return [
    facts([
      [t('c360.available'), number(pt.available)], [t('c360.pending'), number(pt.pending)],
      [t('c360.debt'), pt.debt ? number(pt.debt) : null], [t('c360.tier'), pt.tier || '—'],
      [t('c360.next_expiry'), expiry],
    ]),
    lots.length ? h('details', {}, h('summary', {}, t('c360.lots'), ` (${number(lots.length)})`), scroll(table([
      [t('c360.source'), (l) => [l.source, l.order_id ? ` · ${l.order_id}` : '']], [t('c360.earned'), (l) => number(l.points)],
      [t('c360.left'), (l) => number(l.left)], [t('c360.earned_at'), (l) => time(l.earned_at)],
      [t('c360.vests_at'), (l) => time(l.vests_at)], [t('c360.expires_at'), (l) => time(l.expires_at)],
    ], lots, t('c360.lots')))) : null,
  ];
}

function reviews(id) {
  return pagedTable([
    [t('c360.item'), (r) => r.product_id], [t('c360.rating'), (r) => (r.rating == null ? '—' : number(r.rating, 1))],
    [t('c360.text'), (r) => r.text || '—'], [t('c360.at'), (r) => time(r.at)],
  ], (cursor) => get(query(`/api/v1/profiles/${enc(id)}/reviews`, {cursor, limit: 20})), t('c360.reviews'));
}

/** The profile's lifecycle stage, RFM value group and the segments it is in. */
function audience(p, segs) {
  const rfm = p.rfm;
  const list = segs.items.length
    ? h('ul', {class: 'c360-segments'}, segs.items.map((s) => h('li', {}, h('a', {href: '#/segments/' + enc(s.segment_id)}, s.name))))
    : h('p', {class: 'muted'}, t('c360.no_segments'));
  return [facts([
    [t('c360.stage'), p.lifecycle ? badge(t('stage.' + p.lifecycle.stage), 'stage') : null],
    [t('c360.rfm'), rfm ? t('rfm.' + rfm.group) : null],
    [t('c360.rfm_scores'), rfm ? `${rfm.r} / ${rfm.f} / ${rfm.m}` : null],
    ['RFM', rfm ? t('c360.rfm_figures', {days: number(rfm.recency_days), orders: number(rfm.frequency), spend: money(rfm.monetary, rfm.currency)}) : null],
  ]), h('h3', {}, t('c360.segments')), list];
}
