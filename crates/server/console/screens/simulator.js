// Cart simulator: a cart for a shopper (found by phone, email, user id or
// profile id), priced by POST /api/v1/carts/price — a dry run: nothing is
// ordered, no coupon, stock or budget is used. It shows what the engine
// explains: each line and its discounts, the promotions applied, the ones
// rejected with their reason (crates/pricing/src/explain.rs) and numbers,
// the near misses, shipping, points and the totals. The words of limits
// (lim.*) are registered here for promotions.js too.

import {get, post, query} from '../api.js';
import {h, mount, field, fieldError} from '../dom.js';
import {t, errorText, register} from '../i18n.js';
import {money, number, dateTime} from '../format.js';
import {facts} from '../widgets.js';

register({
  'zh-CN': {
    'sim.dry_run': '试算：只计算价格，不会下单，也不占用优惠券、库存和预算。', 'sim.customer': '客户', 'sim.kind': '按什么查找',
    'sim.kind.phone': '手机号', 'sim.kind.email': '邮箱', 'sim.kind.user_id': '用户 ID', 'sim.kind.profile_id': '客户档案 ID',
    'sim.who': '客户标识', 'sim.h.who': '留空则按匿名顾客计价。', 'sim.lookup': '查找客户', 'sim.anonymous': '匿名顾客（无会员等级、无历史订单）。',
    'sim.not_found': '没有找到这位客户：将按带有这个标识的新客户计价。', 'sim.found': '找到客户', 'sim.profile': '档案',
    'sim.p_name': '姓名', 'sim.tier': '会员等级', 'sim.tags': '标签', 'sim.orders': '订单数', 'sim.identities': '标识',
    'sim.lines': '商品', 'sim.search': '搜索商品', 'sim.h.search': '按名称搜索，点击加入购物车。', 'sim.add_found': '加入 {name}（{id}，{price}）',
    'sim.product': '第 {n} 行：商品编号', 'sim.quantity': '第 {n} 行：数量', 'sim.price': '第 {n} 行：单价（可选）',
    'sim.h.price': '留空按商品目录价', 'sim.remove': '删除第 {n} 行', 'sim.add_line': '添加一行', 'sim.need_line': '请至少添加一件商品。',
    'sim.offers': '优惠券、积分与运费', 'sim.coupons': '优惠券码', 'sim.h.coupons': '多个用逗号或空格分隔。带券码的活动只有输入券码后才会参与计算。',
    'sim.points': '使用积分', 'sim.h.points': '需要已知客户和启用中的积分计划。', 'sim.shipping': '运费', 'sim.h.shipping': '店铺收取的运费（可选），包邮活动会减免。',
    'sim.price_it': '试算价格', 'sim.pricing': '正在计算…', 'sim.result': '计算结果', 'sim.priced_for': '计价客户：{who}',
    'sim.nobody': '匿名 / 新客户', 'sim.priced_at': '计价时间 {at}',
    'sim.subtotal': '商品原价合计', 'sim.discount': '商品优惠', 'sim.ship_fee': '运费', 'sim.ship_off': '运费减免', 'sim.points_off': '积分抵扣',
    'sim.total': '应付合计', 'sim.line_table': '各行明细', 'sim.qty': '数量', 'sim.unit': '单价', 'sim.line_sub': '小计', 'sim.line_off': '优惠', 'sim.line_total': '合计',
    'sim.alloc': '优惠构成', 'sim.applied': '已享受的优惠', 'sim.none_applied': '没有优惠适用。', 'sim.rejected': '未生效的优惠及原因',
    'sim.none_rejected': '没有被拒绝的优惠。', 'sim.hints': '凑单提示', 'sim.gifts': '赠品', 'sim.gift_line': '{product} × {quantity}（{name}）',
    'sim.redeemed': '将使用的券码', 'sim.points_use': '积分', 'sim.p_requested': '想用', 'sim.p_used': '实际可用', 'sim.p_discount': '抵扣金额', 'sim.p_limited': '说明',
    'sim.pl.none': '全部可用', 'sim.pl.insufficient_points': '积分不足', 'sim.pl.points_limit_reached': '已达积分使用限制',
    'sim.pl.max_share': '超过可抵扣比例上限', 'sim.pl.below_min_points': '低于单笔最少使用积分，不能使用',
    'sim.hint_spend': '再买 {more}，可享「{name}」优惠 {discount}', 'sim.hint_items': '再买 {n} 件，可享「{name}」优惠 {discount}',
    'sim.hint_gift': '再买 {more}，可获赠 {product} × {quantity}（{name}）', 'sim.hint_gift_items': '再买 {n} 件，可获赠 {product} × {quantity}（{name}）',
    'sim.sep': '：', 'sim.named': '{name}（{id}）', 'sim.search_info': '搜索了 {n} 种组合{exact}', 'sim.exact': '（穷举）',
    'sim.r.inactive': '活动未在进行（状态：{status}）', 'sim.r.not_started': '活动尚未开始（{starts_at} 开始）', 'sim.r.expired': '活动已结束（{ended_at}）',
    'sim.r.outside_window': '不在活动的每周时段内', 'sim.r.customer_not_eligible': '这位客户不符合参与条件（会员等级、标签或新客）',
    'sim.r.unknown_coupon': '没有活动使用这个券码', 'sim.r.no_matching_lines': '购物车里没有适用的商品',
    'sim.r.currency_mismatch': '币种不符：活动为 {promotion_currency}，购物车为 {cart_currency}',
    'sim.r.min_spend_not_met': '未达到最低消费：需满 {required}，当前 {actual}，还差 {short}',
    'sim.r.min_items_not_met': '件数不足：需 {required} 件，当前 {actual} 件，还差 {short} 件',
    'sim.r.not_stackable_with': '不能与「{id}」同时使用，已选对顾客更划算的「{id}」', 'sim.r.not_best_for_shopper': '不用它对顾客更划算（它会让其他优惠达不到门槛）',
    'sim.r.no_discount': '没有可以再减的金额', 'sim.r.usage_limit_reached': '已达使用上限：{counter}（{scope}，{period}）上限 {limit}，已用 {used}，剩 {left}，本单需要 {needed}',
    'sim.r.budget_exhausted': '预算不足：预算 {limit}，已用 {used}，剩 {left}，本单需要 {needed}', 'sim.r.out_of_stock': '活动库存不足：共 {stock} 件，已售 {sold} 件，剩 {left} 件，本单需要 {wanted} 件',
    'sim.r.customer_required': '这个活动按{scope}限量，需要指定客户', 'sim.r.coupon_used': '券码 {coupon} 已被之前的订单使用',
    'sim.r.coupon_not_owned': '券码 {coupon} 是发给其他客户的', 'sim.r.duplicate_coupon': '同一券模板（{promotion}）每单只能用一张券',
    'lim.counter.redemptions': '使用次数', 'lim.counter.discount': '优惠金额（预算）', 'lim.counter.units': '件数（活动库存）', 'lim.counter.points': '积分',
    'lim.period.total': '总计', 'lim.period.day': '每天', 'lim.period.week': '每周', 'lim.period.month': '每月',
    'lim.scope.promotion': '全部客户合计', 'lim.scope.coupon': '每个券码', 'lim.scope.profile': '每位客户', 'lim.scope.identity': '每个手机号/设备等标识', 'lim.scope.store': '每家门店',
  },
  en: {
    'sim.dry_run': 'A dry run: prices only. Nothing is ordered, and no coupon, stock or budget is used.', 'sim.customer': 'Customer', 'sim.kind': 'Find by',
    'sim.kind.phone': 'Phone', 'sim.kind.email': 'Email', 'sim.kind.user_id': 'User id', 'sim.kind.profile_id': 'Profile id',
    'sim.who': 'Customer identity', 'sim.h.who': 'Empty: an anonymous shopper.', 'sim.lookup': 'Find customer', 'sim.anonymous': 'An anonymous shopper (no tier, no earlier order).',
    'sim.not_found': 'No such customer: priced as a new customer with this identity.', 'sim.found': 'Customer found', 'sim.profile': 'Profile',
    'sim.p_name': 'Name', 'sim.tier': 'Tier', 'sim.tags': 'Tags', 'sim.orders': 'Orders', 'sim.identities': 'Identities',
    'sim.lines': 'Products', 'sim.search': 'Search products', 'sim.h.search': 'By name; choose one to add it to the cart.', 'sim.add_found': 'Add {name} ({id}, {price})',
    'sim.product': 'Line {n}: product id', 'sim.quantity': 'Line {n}: quantity', 'sim.price': 'Line {n}: unit price (optional)',
    'sim.h.price': 'Empty: the catalog price', 'sim.remove': 'Remove line {n}', 'sim.add_line': 'Add a line', 'sim.need_line': 'Add at least one product.',
    'sim.offers': 'Coupons, points and shipping', 'sim.coupons': 'Coupon codes', 'sim.h.coupons': 'Separate with commas or spaces. A promotion with a code is only considered when its code is entered.',
    'sim.points': 'Points to redeem', 'sim.h.points': 'Needs a known customer and an active points program.', 'sim.shipping': 'Shipping fee', 'sim.h.shipping': 'The fee the shop charges (optional); free shipping takes it off.',
    'sim.price_it': 'Price the cart', 'sim.pricing': 'Pricing…', 'sim.result': 'Result', 'sim.priced_for': 'Priced for: {who}',
    'sim.nobody': 'anonymous / new customer', 'sim.priced_at': 'Priced at {at}',
    'sim.subtotal': 'Subtotal', 'sim.discount': 'Discounts', 'sim.ship_fee': 'Shipping', 'sim.ship_off': 'Shipping discount', 'sim.points_off': 'Points',
    'sim.total': 'Total', 'sim.line_table': 'Lines', 'sim.qty': 'Qty', 'sim.unit': 'Unit price', 'sim.line_sub': 'Subtotal', 'sim.line_off': 'Discount', 'sim.line_total': 'Total',
    'sim.alloc': 'From', 'sim.applied': 'Applied promotions', 'sim.none_applied': 'No promotion applies.', 'sim.rejected': 'Promotions not applied, and why',
    'sim.none_rejected': 'No promotion was rejected.', 'sim.hints': 'Near misses', 'sim.gifts': 'Gifts', 'sim.gift_line': '{product} × {quantity} ({name})',
    'sim.redeemed': 'Codes the order would use', 'sim.points_use': 'Points', 'sim.p_requested': 'Requested', 'sim.p_used': 'Used', 'sim.p_discount': 'Worth', 'sim.p_limited': 'Note',
    'sim.pl.none': 'All of them', 'sim.pl.insufficient_points': 'Not enough points', 'sim.pl.points_limit_reached': 'A points limit is reached',
    'sim.pl.max_share': 'Capped at the share of the order points may pay', 'sim.pl.below_min_points': 'Below the minimum per order: none used',
    'sim.hint_spend': 'Spend {more} more for {discount} off with “{name}”', 'sim.hint_items': 'Add {n} more items for {discount} off with “{name}”',
    'sim.hint_gift': 'Spend {more} more for a free {product} × {quantity} (“{name}”)', 'sim.hint_gift_items': 'Add {n} more items for a free {product} × {quantity} (“{name}”)',
    'sim.sep': ': ', 'sim.named': '{name} ({id})', 'sim.search_info': '{n} combinations searched{exact}', 'sim.exact': ' (exhaustively)',
    'sim.r.inactive': 'Not running (status: {status})', 'sim.r.not_started': 'Not started yet (starts {starts_at})', 'sim.r.expired': 'Ended ({ended_at})',
    'sim.r.outside_window': 'Outside its weekly hours', 'sim.r.customer_not_eligible': 'This customer is not eligible (tier, tags or new customers only)',
    'sim.r.unknown_coupon': 'No promotion has this code', 'sim.r.no_matching_lines': 'No line in the cart is one it applies to',
    'sim.r.currency_mismatch': 'Currency mismatch: the promotion is in {promotion_currency}, the cart in {cart_currency}',
    'sim.r.min_spend_not_met': 'Minimum spend not met: needs {required}, the cart has {actual}, {short} short',
    'sim.r.min_items_not_met': 'Too few items: needs {required}, the cart has {actual}, {short} short',
    'sim.r.not_stackable_with': 'Does not combine with “{id}”, which gives the shopper more', 'sim.r.not_best_for_shopper': 'Left out: the total is lower without it (it would cost another promotion its threshold)',
    'sim.r.no_discount': 'Nothing left for it to take off', 'sim.r.usage_limit_reached': 'Limit reached: {counter}, {scope}, {period}: at most {limit}, used {used}, {left} left, this cart needs {needed}',
    'sim.r.budget_exhausted': 'Budget exhausted: budget {limit}, used {used}, {left} left, this cart needs {needed}', 'sim.r.out_of_stock': 'Out of stock: stock {stock}, sold {sold}, {left} left, this cart wants {wanted}',
    'sim.r.customer_required': 'Limited {scope}: the cart needs a customer', 'sim.r.coupon_used': 'Code {coupon} was used by an earlier order',
    'sim.r.coupon_not_owned': 'Code {coupon} was issued to another customer', 'sim.r.duplicate_coupon': 'One code of coupon template {promotion} per order',
    'lim.counter.redemptions': 'Redemptions', 'lim.counter.discount': 'Discount (budget)', 'lim.counter.units': 'Units (stock)', 'lim.counter.points': 'Points',
    'lim.period.total': 'in total', 'lim.period.day': 'per day', 'lim.period.week': 'per week', 'lim.period.month': 'per month',
    'lim.scope.promotion': 'everyone together', 'lim.scope.coupon': 'per code', 'lim.scope.profile': 'per customer', 'lim.scope.identity': 'per phone, device… identity', 'lim.scope.store': 'per store',
  },
});

const KINDS = ['phone', 'email', 'user_id', 'profile_id'];
const enc = encodeURIComponent;
const draft = {kind: 'phone', who: '', lines: [{product_id: '', quantity: '1', price: ''}], coupons: '', points: '', shipping: ''};
const minus = (s) => `−${s}`;

/** a − b for decimal strings, with as many decimals as they have. */
function diff(a, b) {
  const dp = Math.max(...[a, b].map((x) => (String(x).split('.')[1] || '').length));
  return Math.max(0, Number(a) - Number(b)).toFixed(dp);
}

/** A rejection's reason as a sentence with its numbers. */
function reasonText(r, currency, nameOf = (id) => id) {
  const m = (a) => money(a, currency);
  const v = {...r};
  switch (r.code) {
    case 'inactive': v.status = t('pr.status.' + r.status); break;
    case 'not_started': v.starts_at = dateTime(r.starts_at); break;
    case 'expired': v.ended_at = dateTime(r.ended_at); break;
    case 'min_spend_not_met': Object.assign(v, {required: m(r.required), actual: m(r.actual), short: m(diff(r.required, r.actual))}); break;
    case 'min_items_not_met': v.short = Math.max(0, r.required - r.actual); break;
    case 'not_stackable_with': v.id = nameOf(r.id); break;
    case 'usage_limit_reached': Object.assign(v, {counter: t('lim.counter.' + r.counter), period: t('lim.period.' + r.period), scope: t('lim.scope.' + r.scope), left: Math.max(0, r.limit - r.used)}); break;
    case 'budget_exhausted': Object.assign(v, {limit: m(r.limit), used: m(r.used), needed: m(r.needed), left: m(diff(r.limit, r.used))}); break;
    case 'out_of_stock': v.left = Math.max(0, r.stock - r.sold); break;
    case 'customer_required': v.scope = t('lim.scope.' + r.scope); break;
    default:
  }
  const key = 'sim.r.' + r.code;
  const text = t(key, v);
  return text === key ? r.code : text;
}

export function render(main) {
  const who = h('input', {type: 'text', value: draft.who, autocomplete: 'off'});
  const kind = h('select', {}, KINDS.map((k) => h('option', {value: k, selected: k === draft.kind}, t('sim.kind.' + k))));
  const found = h('div', {role: 'status', class: 'p-found'});
  who.addEventListener('input', () => { draft.who = who.value; mount(found); });
  kind.addEventListener('change', () => { draft.kind = kind.value; mount(found); });
  const lookupBtn = h('button', {type: 'button', onclick: () => lookup(found)}, t('sim.lookup'));

  const lineBox = h('div', {class: 'p-rows'});
  const lineInputs = [];
  const drawLines = () => {
    lineInputs.length = 0;
    mount(lineBox, draft.lines.map((l, i) => {
      const n = i + 1;
      const bind = (k, attrs) => {
        const el = h('input', {value: l[k], autocomplete: 'off', ...attrs});
        el.addEventListener('input', () => { l[k] = el.value; });
        return el;
      };
      const product = bind('product_id', {type: 'text'});
      const price = bind('price', {type: 'text', inputmode: 'decimal', placeholder: t('sim.h.price')});
      lineInputs[i] = {product, price};
      return h('div', {class: 'p-row'}, field(t('sim.product', {n}), product), field(t('sim.quantity', {n}), bind('quantity', {type: 'number', min: 1, step: 1})),
        field(t('sim.price', {n}), price), h('button', {type: 'button', class: 'link', onclick: () => {
          draft.lines.splice(i, 1);
          drawLines();
          addLine.focus();
        }}, t('sim.remove', {n})));
    }));
  };
  const addLine = h('button', {type: 'button', onclick: () => {
    draft.lines.push({product_id: '', quantity: '1', price: ''});
    drawLines();
    lineInputs.at(-1).product.focus();
  }}, t('sim.add_line'));
  drawLines();

  // product search: ?q= on the names; a result adds a line
  const search = h('input', {type: 'search', autocomplete: 'off'});
  const results = h('ul', {class: 'p-results', 'aria-live': 'polite'});
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = search.value.trim();
      if (!q) return mount(results);
      try {
        const page = await get(query('/api/v1/products', {q, limit: 8}));
        if (q !== search.value.trim()) return;
        mount(results, page.items.length ? page.items.map((p) => h('li', {}, h('button', {type: 'button', class: 'link', onclick: () => {
          const empty = draft.lines.find((l) => !l.product_id.trim());
          if (empty) empty.product_id = p.product_id; else draft.lines.push({product_id: p.product_id, quantity: '1', price: ''});
          drawLines();
          mount(results);
          search.value = '';
          search.focus();
        }}, t('sim.add_found', {name: p.name || p.product_id, id: p.product_id, price: money(p.price, p.currency)})))) : h('li', {class: 'muted'}, t('common.none')));
      } catch (e) {
        mount(results, h('li', {class: 'error'}, errorText(e)));
      }
    }, 250);
  });

  const bindDraft = (k, attrs) => {
    const el = h('input', {value: draft[k], autocomplete: 'off', ...attrs});
    el.addEventListener('input', () => { draft[k] = el.value; });
    return el;
  };
  const coupons = bindDraft('coupons', {type: 'text'});
  const points = bindDraft('points', {type: 'number', min: 0, step: 1});
  const shipping = bindDraft('shipping', {type: 'text', inputmode: 'decimal'});
  const alert = h('div', {role: 'alert', class: 'p-alert', tabindex: '-1'});
  const out = h('section', {'aria-live': 'polite', 'aria-labelledby': 'sim-result', class: 'p-result'});
  const submit = h('button', {type: 'submit', class: 'primary'}, t('sim.price_it'));

  const form = h('form', {class: 'p-form', novalidate: true},
    h('fieldset', {class: 'card'}, h('legend', {}, t('sim.customer')),
      h('div', {class: 'toolbar'}, field(t('sim.kind'), kind), field(t('sim.who'), who, t('sim.h.who')), lookupBtn), found),
    h('fieldset', {class: 'card'}, h('legend', {}, t('sim.lines')), field(t('sim.search'), search, t('sim.h.search')), results, lineBox, addLine),
    h('fieldset', {class: 'card'}, h('legend', {}, t('sim.offers')), h('div', {class: 'grid2'},
      field(t('sim.coupons'), coupons, t('sim.h.coupons')), field(t('sim.points'), points, t('sim.h.points')), field(t('sim.shipping'), shipping, t('sim.h.shipping')))),
    alert, h('div', {class: 'p-savebar'}, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    mount(alert);
    for (const el of [who, coupons, points, shipping, ...lineInputs.flatMap((l) => [l.product, l.price])]) fieldError(el, '');
    const rows = draft.lines.map((l, i) => [l, i]).filter(([l]) => l.product_id.trim());
    if (!rows.length) {
      const first = lineInputs[0]?.product || search;
      fieldError(first, t('sim.need_line'));
      return first.focus();
    }
    const body = {lines: rows.map(([l]) => ({product_id: l.product_id.trim(), quantity: Number(l.quantity) || 1, ...(l.price.trim() ? {price: l.price.trim()} : {})})),
      coupons: draft.coupons.split(/[\s,，、]+/).filter(Boolean)};
    if (draft.who.trim()) body[draft.kind] = draft.who.trim();
    if (draft.points.trim()) body.points = Number(draft.points);
    if (draft.shipping.trim()) body.shipping = draft.shipping.trim();
    submit.disabled = true;
    submit.textContent = t('sim.pricing');
    try {
      const [r, names] = await Promise.all([post('/api/v1/carts/price', body), promotionNames()]);
      show(out, r, names);
    } catch (err) {
      const said = errorText(err);
      const extra = err.message && !said.includes(err.message) ? err.message : '';
      mount(alert, h('p', {class: 'error'}, said), extra ? h('p', {class: 'error'}, extra) : null);
      const line = /lines\[(\d+)\]/.exec(err.message || '');
      const el = line && rows[line[1]] ? lineInputs[rows[line[1]][1]][/price/.test(err.message) ? 'price' : 'product']
        : /points/.test(err.message || '') ? points : /coupon/.test(err.message || '') ? coupons
          : /shipping/.test(err.message || '') ? shipping : ['invalid_identity', 'missing_identity'].includes(err.code) ? who : null;
      if (el) { fieldError(el, `${said} ${extra}`.trim()); el.focus(); } else alert.focus();
    }
    submit.disabled = false;
    submit.textContent = t('sim.price_it');
  });

  mount(main, h('h1', {}, t('nav.simulator')), h('p', {class: 'p-notice'}, t('sim.dry_run')), form, out);
}

/** Who the identity names: GET /api/v1/profiles?identity=… (or the profile). */
async function lookup(box) {
  const value = draft.who.trim();
  if (!value) return mount(box, h('p', {class: 'muted'}, t('sim.anonymous')));
  mount(box, h('p', {class: 'muted'}, t('common.loading')));
  let p;
  try {
    p = draft.kind === 'profile_id' ? await get('/api/v1/profiles/' + enc(value))
      : (await get(query('/api/v1/profiles', {identity: `${draft.kind}:${value}`}))).items[0];
  } catch (e) {
    if (e.code !== 'not_found') return mount(box, h('p', {class: 'error'}, errorText(e), ' ', e.message && !errorText(e).includes(e.message) ? e.message : ''));
  }
  if (!p) return mount(box, h('p', {}, t('sim.not_found')));
  const traits = p.traits || {};
  const list = (v) => (Array.isArray(v) ? v.join('、') : v == null ? null : String(v));
  mount(box, h('p', {}, h('strong', {}, t('sim.found'))), facts([
    [t('sim.profile'), h('a', {href: '#/customers/' + enc(p.id)}, p.id)],
    [t('sim.p_name'), list(traits.name)], [t('sim.tier'), list(traits.tier)], [t('sim.tags'), list(traits.tags)],
    [t('sim.orders'), number(p.order_count ?? 0)],
    [t('sim.identities'), (p.identities || []).map((i) => `${i.type}: ${i.value}`).join(' · ')],
  ]));
}

/** id → name of the promotions (the first 200), to name the rejected ones. */
async function promotionNames() {
  try {
    const page = await get(query('/api/v1/promotions', {limit: 200}));
    return new Map(page.items.map((p) => [p.id, p.spec?.name || p.id]));
  } catch {
    return new Map();
  }
}

function show(out, r, names) {
  const cur = r.currency;
  const m = (a) => money(a, cur);
  for (const a of r.applied) names.set(a.id, a.name);
  const nameOf = (id) => (names.has(id) && names.get(id) !== id ? t('sim.named', {name: names.get(id), id}) : id);
  const short = (id) => names.get(id) || id;
  const list = (items, empty, make) => (items.length ? h('ul', {class: 'p-list'}, items.map((x) => h('li', {}, make(x)))) : h('p', {class: 'muted'}, empty));
  const section = (id, title, ...body) => h('section', {class: 'card', id, 'aria-labelledby': id + '-h'}, h('h3', {id: id + '-h'}, title), ...body);
  const points = r.points;
  mount(out, h('h2', {id: 'sim-result'}, t('sim.result')),
    h('div', {class: 'grid2'},
      section('sim-totals', t('sim.total'), facts([
        [t('sim.subtotal'), m(r.subtotal)], [t('sim.discount'), minus(m(r.discount))],
        [t('sim.ship_fee'), m(r.shipping)], [t('sim.ship_off'), Number(r.shipping_discount) ? minus(m(r.shipping_discount)) : null],
        [t('sim.points_off'), points && Number(points.discount) ? minus(m(points.discount)) : null],
        [t('sim.total'), h('strong', {class: 'p-total'}, m(r.total))],
      ]), h('p', {class: 'muted p-small'}, t('sim.priced_for', {who: r.profile_id || t('sim.nobody')}), ' · ', t('sim.priced_at', {at: dateTime(r.priced_at)}), ' · ',
        t('sim.search_info', {n: number(r.search?.combinations ?? 0), exact: r.search?.exact ? t('sim.exact') : ''}))),
      section('sim-applied', t('sim.applied'), list(r.applied, t('sim.none_applied'), (a) => [h('span', {}, nameOf(a.id)), ' ', h('strong', {}, minus(m(a.amount)))]))),
    section('sim-rejected', t('sim.rejected'), list(r.rejected, t('sim.none_rejected'), (x) => [h('span', {class: 'p-rej-name'}, nameOf(x.id)), t('sim.sep'), h('span', {class: 'p-reason'}, reasonText(x.reason, cur, short)),
      ' ', h('code', {class: 'muted p-small'}, x.reason.code)])),
    r.hints.length ? section('sim-hints', t('sim.hints'), list(r.hints, '', (x) => {
      const v = {name: short(x.id), discount: m(x.discount), more: x.spend_more != null ? m(x.spend_more) : '', n: x.items_more, product: x.gift?.product_id, quantity: x.gift?.quantity};
      return t(x.gift ? (x.items_more != null ? 'sim.hint_gift_items' : 'sim.hint_gift') : x.items_more != null ? 'sim.hint_items' : 'sim.hint_spend', v);
    })) : null,
    r.gifts.length ? section('sim-gifts', t('sim.gifts'), list(r.gifts, '', (g) => t('sim.gift_line', {product: g.sku || g.product_id, quantity: g.quantity, name: short(g.promotion)}))) : null,
    points ? section('sim-points', t('sim.points_use'), facts([[t('sim.p_requested'), number(points.requested)], [t('sim.p_used'), number(points.used)],
      [t('sim.p_discount'), m(points.discount)], [t('sim.p_limited'), t('sim.pl.' + points.limited_by)]])) : null,
    r.redeemed.length ? section('sim-redeemed', t('sim.redeemed'), list(r.redeemed, '', (x) => t('sim.named', {name: x.coupon, id: short(x.promotion)}))) : null,
    section('sim-lines', t('sim.line_table'), h('div', {class: 'p-scroll'}, h('table', {},
      h('thead', {}, h('tr', {}, ['sim.lines', 'sim.qty', 'sim.unit', 'sim.line_sub', 'sim.line_off', 'sim.alloc', 'sim.line_total'].map((k) => h('th', {scope: 'col'}, t(k))))),
      h('tbody', {}, r.lines.map((l) => h('tr', {}, h('th', {scope: 'row'}, l.product_id), h('td', {}, number(l.quantity)), h('td', {}, m(l.unit_price)),
        h('td', {}, m(l.subtotal)), h('td', {}, Number(l.discount) ? minus(m(l.discount)) : m(l.discount)),
        h('td', {}, l.allocations.map((a) => h('div', {}, `${short(a.promotion)} ${minus(m(a.amount))}`))), h('td', {}, m(l.total)))))))));
}
