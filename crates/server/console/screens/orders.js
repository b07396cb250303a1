// Orders (#/orders): a list with filters (status, placed between, buyer)
// and paging; an order (#/orders/<id>): its totals, lines with what each
// paid after discounts, refunds and cancellation, and a refund form (some
// lines, an amount, or what is left) that calls POST /api/v1/orders/{id}/refunds.

import {get, post, query} from '../api.js';
import {h, mount, field, fieldError} from '../dom.js';
import {t, errorText, register} from '../i18n.js';
import {money, number, dateTime, offsetMinutes} from '../format.js';
import {table, pager, loadInto, badge, facts} from '../widgets.js';

register({
  'zh-CN': {
    'ord.title': '订单', 'ord.status': '状态', 'ord.all': '全部', 'ord.after': '下单日期从', 'ord.before': '下单日期到',
    'ord.buyer': '客户 ID', 'ord.filter': '筛选', 'ord.id': '订单号', 'ord.placed': '下单时间', 'ord.total': '订单金额',
    'ord.discount': '优惠', 'ord.refunded': '已退款', 'ord.net': '实收', 'ord.coupon': '优惠券', 'ord.customer': '客户',
    'ord.s.completed': '已完成', 'ord.s.partially_refunded': '部分退款', 'ord.s.refunded': '已退款', 'ord.s.cancelled': '已取消',
    'ord.lines': '商品明细', 'ord.product': '商品', 'ord.price': '单价', 'ord.qty': '数量', 'ord.paid': '实付（分摊优惠后）',
    'ord.refunded_qty': '已退数量', 'ord.after_sales': '售后与退款', 'ord.kind': '类型', 'ord.outcome': '结果',
    'ord.amount': '金额', 'ord.reason': '原因', 'ord.at': '时间', 'ord.none': '没有售后记录',
    'ord.refund': '退款', 'ord.refund_qty': '退 {name} 的数量', 'ord.refund_amount': '或退一个金额',
    'ord.refund_reason': '退款原因', 'ord.refund_all': '不填数量和金额：退还剩余全部', 'ord.refund_submit': '提交退款',
    'ord.refund_sent': '退款已提交，正在处理…', 'ord.refund_done': '退款已生效。', 'ord.back': '返回订单列表',
    'ord.buyer_link': '查看客户', 'ord.erased': '（客户已被删除）',
  },
  en: {
    'ord.title': 'Orders', 'ord.status': 'Status', 'ord.all': 'All', 'ord.after': 'Placed from', 'ord.before': 'Placed until',
    'ord.buyer': 'Customer id', 'ord.filter': 'Filter', 'ord.id': 'Order', 'ord.placed': 'Placed', 'ord.total': 'Total',
    'ord.discount': 'Discount', 'ord.refunded': 'Refunded', 'ord.net': 'Net', 'ord.coupon': 'Coupon', 'ord.customer': 'Customer',
    'ord.s.completed': 'completed', 'ord.s.partially_refunded': 'partly refunded', 'ord.s.refunded': 'refunded', 'ord.s.cancelled': 'cancelled',
    'ord.lines': 'Lines', 'ord.product': 'Product', 'ord.price': 'Unit price', 'ord.qty': 'Quantity', 'ord.paid': 'Paid (after discounts)',
    'ord.refunded_qty': 'Refunded', 'ord.after_sales': 'Refunds and cancellation', 'ord.kind': 'Kind', 'ord.outcome': 'Outcome',
    'ord.amount': 'Amount', 'ord.reason': 'Reason', 'ord.at': 'When', 'ord.none': 'No refund or cancellation',
    'ord.refund': 'Refund', 'ord.refund_qty': 'Units of {name} to refund', 'ord.refund_amount': 'Or an amount',
    'ord.refund_reason': 'Reason', 'ord.refund_all': 'No units and no amount: what is left is refunded', 'ord.refund_submit': 'Refund',
    'ord.refund_sent': 'Refund sent; applying…', 'ord.refund_done': 'The refund is applied.', 'ord.back': 'Back to orders',
    'ord.buyer_link': 'Open the customer', 'ord.erased': '(customer erased)',
  },
});

const STATUSES = ['completed', 'partially_refunded', 'refunded', 'cancelled'];
const NIL = '00000000-0000-0000-0000-000000000000';
const statusBadge = (s) => badge(t('ord.s.' + s), s === 'completed' ? 'ok' : s === 'cancelled' ? 'bad' : 'warn');

/** A shop-zone date (YYYY-MM-DD) as the instant its day starts. */
function dayStart(ymd) {
  return ymd ? new Date(Date.parse(ymd + 'T00:00:00Z') - offsetMinutes() * 60000).toISOString() : null;
}

export function render(main, {params}) {
  if (params[0]) return detail(main, params[0]);
  const q = new URLSearchParams((location.hash.split('?')[1]) || '');
  const status = h('select', {}, h('option', {value: ''}, t('ord.all')), STATUSES.map((s) => h('option', {value: s, selected: q.get('status') === s}, t('ord.s.' + s))));
  const after = h('input', {type: 'date', value: q.get('after') || ''});
  const before = h('input', {type: 'date', value: q.get('before') || ''});
  const buyer = h('input', {type: 'text', value: q.get('profile') || '', size: 36});
  const form = h('form', {class: 'toolbar'}, field(t('ord.status'), status), field(t('ord.after'), after),
    field(t('ord.before'), before), field(t('ord.buyer'), buyer), h('button', {type: 'submit'}, t('ord.filter')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k, v] of [['status', status.value], ['after', after.value], ['before', before.value], ['profile', buyer.value.trim()]]) if (v) p.set(k, v);
    location.hash = '#/orders' + (p.toString() ? '?' + p : '');
  });
  const list = pager((cursor) => get(query('/api/v1/orders', {cursor, limit: 25, status: q.get('status'),
    placed_after: dayStart(q.get('after')), placed_before: q.get('before') ? dayStart(nextDay(q.get('before'))) : null,
    profile: q.get('profile')})), (items) => table([
    [t('ord.id'), (o) => h('a', {href: '#/orders/' + encodeURIComponent(o.order_id)}, o.order_id)],
    [t('ord.placed'), (o) => dateTime(o.placed_at)],
    [t('ord.status'), (o) => statusBadge(o.status)],
    [t('ord.total'), (o) => money(o.total, o.currency)],
    [t('ord.discount'), (o) => money(o.discount, o.currency)],
    [t('ord.net'), (o) => money(o.net, o.currency)],
    [t('ord.customer'), (o) => (o.profile_id === NIL ? t('ord.erased') : h('a', {href: '#/customers/' + o.profile_id}, t('ord.buyer_link')))],
  ], items, t('ord.title')));
  mount(main, h('h1', {}, t('ord.title')), form, h('section', {class: 'card'}, list));
}

function nextDay(ymd) {
  return new Date(Date.parse(ymd + 'T00:00:00Z') + 86400000).toISOString().slice(0, 10);
}

function detail(main, id) {
  const body = h('div');
  mount(main, h('p', {}, h('a', {href: '#/orders'}, '← ' + t('ord.back'))), h('h1', {}, t('ord.id') + ' ' + id), body);
  loadInto(body, async () => view(await get('/api/v1/orders/' + encodeURIComponent(id)), body));
}

function view(o, body) {
  const c = o.currency;
  const lines = table([
    [t('ord.product'), (l) => l.name || l.product_id],
    [t('ord.price'), (l) => money(l.price, c)],
    [t('ord.qty'), (l) => number(l.quantity)],
    [t('ord.paid'), (l) => money(l.paid, c)],
    [t('ord.refunded_qty'), (l) => number(l.refunded_quantity || 0)],
  ], o.lines, t('ord.lines'));
  const after = o.after_sales.length ? table([
    [t('ord.kind'), (a) => (a.kind === 'refund' ? t('ord.refund') : t('ord.s.cancelled'))],
    [t('ord.outcome'), (a) => a.outcome],
    [t('ord.amount'), (a) => (a.amount == null ? '—' : money(a.amount, a.currency || c))],
    [t('ord.reason'), (a) => a.reason || '—'],
    [t('ord.at'), (a) => dateTime(a.at)],
  ], o.after_sales, t('ord.after_sales')) : h('p', {class: 'muted'}, t('ord.none'));
  return [
    h('section', {class: 'card'}, facts([
      [t('ord.status'), statusBadge(o.status)], [t('ord.placed'), dateTime(o.placed_at)],
      [t('ord.total'), money(o.total, c)], [t('ord.discount'), money(o.discount, c)],
      [t('ord.refunded'), money(o.refunded, c)], [t('ord.net'), money(o.net, c)], [t('ord.coupon'), o.coupon],
      [t('ord.customer'), o.profile_id === NIL ? t('ord.erased') : h('a', {href: '#/customers/' + o.profile_id}, t('ord.buyer_link'))],
    ])),
    h('section', {class: 'card'}, h('h2', {}, t('ord.lines')), lines),
    h('section', {class: 'card'}, h('h2', {}, t('ord.after_sales')), after),
    o.status === 'cancelled' || o.status === 'refunded' ? null : refundForm(o, body),
  ];
}

function refundForm(o, body) {
  const qty = o.lines.map((l) => h('input', {type: 'number', min: 0, max: l.quantity - (l.refunded_quantity || 0), step: 1, value: ''}));
  const amount = h('input', {type: 'text', inputmode: 'decimal', placeholder: '0.00'});
  const reason = h('input', {type: 'text', maxlength: 200});
  const status = h('p', {role: 'status'});
  const form = h('form', {class: 'card', novalidate: true}, h('h2', {}, t('ord.refund')),
    o.lines.map((l, i) => field(t('ord.refund_qty', {name: l.name || l.product_id}), qty[i])),
    field(t('ord.refund_amount'), amount), field(t('ord.refund_reason'), reason),
    h('p', {class: 'hint'}, t('ord.refund_all')), status, h('button', {type: 'submit', class: 'primary'}, t('ord.refund_submit')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fieldError(amount, '');
    const products = o.lines.map((l, i) => [l, Number(qty[i].value)]).filter(([, n]) => n > 0)
      .map(([l, n]) => ({product_id: l.product_id, quantity: n}));
    const req = {reason: reason.value || null};
    if (products.length) req.products = products;
    if (amount.value.trim()) req.total = amount.value.trim();
    const before = o.after_sales.length;
    try {
      await post('/api/v1/orders/' + encodeURIComponent(o.order_id) + '/refunds', req);
    } catch (err) {
      return fieldError(amount, errorText(err));
    }
    status.textContent = t('ord.refund_sent');
    for (let i = 0; i < 50; i++) {
      const now = await get('/api/v1/orders/' + encodeURIComponent(o.order_id));
      if (now.after_sales.length > before) {
        mount(body, view(now, body), h('p', {role: 'status', class: 'ok'}, t('ord.refund_done')));
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  return form;
}
