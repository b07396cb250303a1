// Products (#/products): the catalog with filters (name, category with its
// sub-categories, brand, tag, status) and paging; a product
// (#/products/<id>): price, stock, status, category path, tags, attributes,
// its history (who changed what), its events and its reviews.

import {get, query} from '../api.js';
import {h, mount, field} from '../dom.js';
import {t, register} from '../i18n.js';
import {money, number, dateTime} from '../format.js';
import {table, pager, loadInto, badge, facts, jsonText} from '../widgets.js';

register({
  'zh-CN': {
    'prod.title': '商品', 'prod.q': '名称包含', 'prod.category': '类目（含子类目）', 'prod.brand': '品牌', 'prod.tag': '标签',
    'prod.status': '状态', 'prod.all': '全部', 'prod.on_shelf': '在售', 'prod.off_shelf': '已下架', 'prod.filter': '筛选',
    'prod.id': '商品 ID', 'prod.name': '名称', 'prod.price': '价格', 'prod.stock': '库存', 'prod.updated': '更新时间',
    'prod.sku': 'SKU', 'prod.tags': '标签', 'prod.attributes': '其他属性', 'prod.history': '变更记录',
    'prod.events': '相关事件', 'prod.reviews': '评价', 'prod.back': '返回商品列表', 'prod.who': '操作人', 'prod.what': '动作',
    'prod.change': '变更', 'prod.at': '时间', 'prod.event': '事件', 'prod.customer': '客户', 'prod.rating': '评分',
    'prod.text': '内容', 'prod.open': '查看客户', 'prod.categories': '类目树',
  },
  en: {
    'prod.title': 'Products', 'prod.q': 'Name contains', 'prod.category': 'Category (and below)', 'prod.brand': 'Brand', 'prod.tag': 'Tag',
    'prod.status': 'Status', 'prod.all': 'All', 'prod.on_shelf': 'On sale', 'prod.off_shelf': 'Off shelf', 'prod.filter': 'Filter',
    'prod.id': 'Product id', 'prod.name': 'Name', 'prod.price': 'Price', 'prod.stock': 'Stock', 'prod.updated': 'Updated',
    'prod.sku': 'SKU', 'prod.tags': 'Tags', 'prod.attributes': 'Other attributes', 'prod.history': 'History',
    'prod.events': 'Events', 'prod.reviews': 'Reviews', 'prod.back': 'Back to products', 'prod.who': 'Who', 'prod.what': 'Action',
    'prod.change': 'Change', 'prod.at': 'When', 'prod.event': 'Event', 'prod.customer': 'Customer', 'prod.rating': 'Rating',
    'prod.text': 'Text', 'prod.open': 'Open the customer', 'prod.categories': 'Category tree',
  },
});

export function render(main, {params}) {
  if (params[0]) return detail(main, params[0]);
  const q = new URLSearchParams((location.hash.split('?')[1]) || '');
  const input = (name, type = 'text') => h('input', {type, name, value: q.get(name) || ''});
  const inputs = {q: input('q', 'search'), category: input('category'), brand: input('brand'), tag: input('tag')};
  const status = h('select', {name: 'status'}, h('option', {value: ''}, t('prod.all')),
    ['on_shelf', 'off_shelf'].map((s) => h('option', {value: s, selected: q.get('status') === s}, t('prod.' + s))));
  const form = h('form', {class: 'toolbar', role: 'search'}, field(t('prod.q'), inputs.q), field(t('prod.category'), inputs.category),
    field(t('prod.brand'), inputs.brand), field(t('prod.tag'), inputs.tag), field(t('prod.status'), status),
    h('button', {type: 'submit'}, t('prod.filter')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k, el] of [...Object.entries(inputs), ['status', status]]) if (el.value.trim()) p.set(k, el.value.trim());
    location.hash = '#/products' + (p.toString() ? '?' + p : '');
  });
  const params_ = Object.fromEntries(['q', 'category', 'brand', 'tag', 'status'].map((k) => [k, q.get(k)]));
  const list = pager((cursor) => get(query('/api/v1/products', {cursor, limit: 25, ...params_})), (items) => table([
    [t('prod.name'), (p) => h('a', {href: '#/products/' + encodeURIComponent(p.product_id)}, p.name)],
    [t('prod.id'), (p) => p.product_id],
    [t('prod.category'), (p) => p.category_path.join(' / ')],
    [t('prod.price'), (p) => money(p.price, p.currency)],
    [t('prod.stock'), (p) => (p.stock == null ? '—' : number(p.stock))],
    [t('prod.status'), (p) => (p.status === 'off_shelf' ? badge(t('prod.off_shelf'), 'warn') : badge(t('prod.on_shelf'), 'ok'))],
  ], items, t('prod.title')));
  mount(main, h('h1', {}, t('prod.title')), form, h('section', {class: 'card'}, list));
}

function detail(main, id) {
  const path = '/api/v1/products/' + encodeURIComponent(id);
  const head = h('div');
  const sections = ['history', 'events', 'reviews'].map((k) => [k, h('div')]);
  mount(main, h('p', {}, h('a', {href: '#/products'}, '← ' + t('prod.back'))), head,
    sections.map(([k, box]) => h('section', {class: 'card', 'aria-labelledby': 'p-' + k}, h('h2', {id: 'p-' + k}, t('prod.' + k)), box)));
  loadInto(head, async () => {
    const p = await get(path);
    return [h('h1', {}, p.name), h('section', {class: 'card'}, facts([
      [t('prod.id'), p.product_id], [t('prod.sku'), p.sku], [t('prod.price'), money(p.price, p.currency)],
      [t('prod.stock'), p.stock == null ? '—' : number(p.stock)],
      [t('prod.status'), p.status === 'off_shelf' ? t('prod.off_shelf') : t('prod.on_shelf')],
      [t('prod.category'), p.category_path.join(' / ')], [t('prod.brand'), p.brand],
      [t('prod.tags'), p.tags.join(', ')], [t('prod.updated'), dateTime(p.updated_at)],
      [t('prod.attributes'), Object.keys(p.attributes || {}).length ? h('pre', {class: 'json'}, JSON.stringify(p.attributes, null, 2)) : null],
    ]))];
  });
  const [history, events, reviews] = sections.map(([, box]) => box);
  loadInto(history, async () => pager((cursor) => get(query(path + '/history', {cursor, limit: 20})), (items) => table([
    [t('prod.at'), (e) => dateTime(e.at)], [t('prod.who'), (e) => e.actor], [t('prod.what'), (e) => e.action],
    [t('prod.change'), (e) => h('details', {}, h('summary', {}, '…'), h('pre', {class: 'json'}, jsonText({before: e.before, after: e.after})))],
  ], items)));
  loadInto(events, async () => pager((cursor) => get(query(path + '/events', {cursor, limit: 20})), (items) => table([
    [t('prod.at'), (e) => dateTime(e.timestamp)], [t('prod.event'), (e) => e.name || e.type],
    [t('prod.customer'), (e) => h('a', {href: '#/customers/' + e.profile_id}, t('prod.open'))],
  ], items)));
  loadInto(reviews, async () => pager((cursor) => get(query(path + '/reviews', {cursor, limit: 20})), (items) => table([
    [t('prod.at'), (r) => dateTime(r.at)], [t('prod.rating'), (r) => (r.rating == null ? '—' : '★'.repeat(Math.round(r.rating)) + ` ${r.rating}`)],
    [t('prod.text'), (r) => r.text || ''],
    [t('prod.customer'), (r) => h('a', {href: '#/customers/' + r.profile_id}, t('prod.open'))],
  ], items)));
}
