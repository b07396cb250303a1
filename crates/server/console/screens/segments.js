// Segments (人群): the saved segments; the builder — conditions as rows
// (visual) or as the text form, kept in sync through the API, which reads
// both (POST /api/v1/segments/estimate answers the other form), with a live
// audience estimate as conditions change —; a segment's members, count
// history (a chart) and CSV export.

import {get, post, query} from '../api.js';
import {h, mount, field, fieldError} from '../dom.js';
import {t, errorText, register} from '../i18n.js';
import {number, dateTime} from '../format.js';
import {table, badge, facts, loadInto, pager, echarts} from '../widgets.js';

register({
  'zh-CN': {
    'sg.title': '人群', 'sg.new': '新建人群', 'sg.name': '名称', 'sg.members': '人数', 'sg.status': '状态',
    'sg.status.active': '实时更新中', 'sg.status.archived': '已归档', 'sg.updated': '更新时间', 'sg.none': '还没有保存的人群。',
    'sg.builder': '人群条件', 'sg.visual': '可视化', 'sg.text': '文本', 'sg.mode': '编辑方式', 'sg.match': '满足',
    'sg.match.all': '全部条件', 'sg.match.any': '任一条件', 'sg.add': '添加条件', 'sg.remove': '删除条件 {n}',
    'sg.kind': '条件 {n} 类型', 'sg.kind.performed': '做过', 'sg.kind.not_performed': '没做过', 'sg.kind.trait': '属性',
    'sg.kind.orders': '订单', 'sg.kind.has': '有联系方式', 'sg.kind.coupons': '券包可用券', 'sg.kind.points': '可用积分',
    'sg.template': '券模板（空为任意）', 'sg.count': '数量', 'sg.event': '事件', 'sg.times': '次数', 'sg.within': '时间窗口',
    'sg.where': '事件属性', 'sg.value': '值', 'sg.key': '属性名', 'sg.op': '比较', 'sg.measure': '指标',
    'sg.measure.order_count': '订单数', 'sg.measure.net_spend': '净消费', 'sg.measure.average_order': '客单价', 'sg.measure.coupon_orders': '用券订单数',
    'sg.text_label': '条件（文本）', 'sg.text_hint': '例如：performed "Product Viewed" >= 3 within 30d and not performed "Order Completed" within 30d',
    'sg.estimate': '预计 {count} 人（共 {profiles} 人，{share}）', 'sg.estimating': '正在估算…',
    'sg.too_complex': '这个条件有嵌套分组，只能用文本编辑。', 'sg.save': '保存人群', 'sg.saved': '已保存。',
    'sg.condition': '条件', 'sg.evaluated': '上次全量计算', 'sg.refresh': '重新计算', 'sg.archive': '归档', 'sg.activate': '恢复实时更新',
    'sg.export': '导出全部成员（CSV）', 'sg.history': '人数变化', 'sg.member_list': '成员', 'sg.profile': '客户', 'sg.since': '加入时间',
    'sg.back': '返回人群列表', 'sg.refreshed': '已重新计算：新进入 {entered} 人，离开 {exited} 人。',
  },
  en: {
    'sg.title': 'Segments', 'sg.new': 'New segment', 'sg.name': 'Name', 'sg.members': 'Members', 'sg.status': 'Status',
    'sg.status.active': 'Kept live', 'sg.status.archived': 'Archived', 'sg.updated': 'Updated', 'sg.none': 'No saved segments yet.',
    'sg.builder': 'Conditions', 'sg.visual': 'Visual', 'sg.text': 'Text', 'sg.mode': 'Edit as', 'sg.match': 'Match',
    'sg.match.all': 'all conditions', 'sg.match.any': 'any condition', 'sg.add': 'Add a condition', 'sg.remove': 'Remove condition {n}',
    'sg.kind': 'Condition {n} kind', 'sg.kind.performed': 'Did', 'sg.kind.not_performed': 'Did not do', 'sg.kind.trait': 'Trait',
    'sg.kind.orders': 'Orders', 'sg.kind.has': 'Has a contact', 'sg.kind.coupons': 'Usable coupons held', 'sg.kind.points': 'Points to spend',
    'sg.template': 'Coupon template (any if empty)', 'sg.count': 'Number', 'sg.event': 'Event', 'sg.times': 'Times', 'sg.within': 'Within',
    'sg.where': 'Event property', 'sg.value': 'Value', 'sg.key': 'Trait', 'sg.op': 'Comparison', 'sg.measure': 'Figure',
    'sg.measure.order_count': 'Order count', 'sg.measure.net_spend': 'Net spend', 'sg.measure.average_order': 'Average order', 'sg.measure.coupon_orders': 'Orders with a coupon',
    'sg.text_label': 'Conditions (text)', 'sg.text_hint': 'e.g. performed "Product Viewed" >= 3 within 30d and not performed "Order Completed" within 30d',
    'sg.estimate': 'About {count} people (of {profiles}, {share})', 'sg.estimating': 'Estimating…',
    'sg.too_complex': 'These conditions nest groups: edit them as text.', 'sg.save': 'Save the segment', 'sg.saved': 'Saved.',
    'sg.condition': 'Conditions', 'sg.evaluated': 'Last decided from scratch', 'sg.refresh': 'Decide again', 'sg.archive': 'Archive', 'sg.activate': 'Keep live again',
    'sg.export': 'Export every member (CSV)', 'sg.history': 'Members over time', 'sg.member_list': 'Members', 'sg.profile': 'Customer', 'sg.since': 'Member since',
    'sg.back': 'Back to the segments', 'sg.refreshed': 'Decided again: {entered} entered, {exited} left.',
  },
});

const enc = encodeURIComponent;

export function render(main, {params, session}) {
  const canEdit = ['admin', 'marketer'].includes(session.role);
  if (params[0] === 'new' && canEdit) return builder(main);
  if (params[0]) return detail(main, params[0], canEdit);
  const box = h('div', {});
  mount(main, h('h1', {}, t('sg.title')),
    canEdit ? h('p', {}, h('a', {href: '#/segments/new', class: 'button primary'}, t('sg.new'))) : null, box);
  loadInto(box, async () => {
    const r = await get('/api/v1/segments?limit=200');
    if (!r.items.length) return h('p', {class: 'muted'}, t('sg.none'));
    return table([
      [t('sg.name'), (s) => h('a', {href: '#/segments/' + enc(s.id)}, s.name)],
      [t('sg.members'), (s) => number(s.members)],
      [t('sg.status'), (s) => badge(t('sg.status.' + s.status), s.status === 'active' ? 'ok' : '')],
      [t('sg.updated'), (s) => dateTime(s.updated_at)],
    ], r.items, t('sg.title'));
  });
}

// ---- the builder ------------------------------------------------------------

const KINDS = ['performed', 'not_performed', 'trait', 'orders', 'has', 'coupons', 'points'];
const CMPS = ['>=', '<=', '=', '>', '<'];
const OPS = ['=', '!=', '>', '>=', '<', '<=', 'contains', 'exists'];

/** A row of the visual editor as the JSON form. */
function leafOf(r) {
  const within = r.within?.trim() || undefined;
  switch (r.kind) {
    case 'performed':
    case 'not_performed': {
      const p = {event: r.event, count: {cmp: r.cmp, n: Number(r.n) || 0}, within};
      if (r.property) p.where = [{property: r.property, op: '=', value: r.value}];
      return r.kind === 'performed' ? {performed: p} : {not: {performed: p}};
    }
    case 'trait': return {trait: {key: r.key, op: r.op, value: r.op === 'exists' ? undefined : typed(r.value)}};
    case 'orders': return {orders: {measure: r.measure, cmp: r.cmp, value: String(r.value || '0'), within}};
    case 'coupons': return {coupons: {promotion: r.promotion?.trim() || undefined, count: {cmp: r.cmp, n: Number(r.n) || 0}}};
    case 'points': return {points: {cmp: r.cmp, n: Number(r.n) || 0}};
    default: return {has: r.has};
  }
}

/** Numbers as numbers, true/false as booleans, the rest as text. */
function typed(v) {
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v === 'true' ? true : v === 'false' ? false : v;
}

/** The rows of a definition, if the visual editor can show it (a flat group of simple conditions). */
function rowsOf(def) {
  const items = def.all || def.any || [def];
  const rows = [];
  for (const c of items) {
    const p = c.performed || c.not?.performed;
    if (p && (!p.where || p.where.length <= 1) && (!p.where?.[0] || p.where[0].op === '=')) {
      rows.push({kind: c.performed ? 'performed' : 'not_performed', event: p.event, cmp: p.count?.cmp || '>=',
        n: p.count?.n ?? 1, within: p.within || '', property: p.where?.[0]?.property || '', value: p.where?.[0]?.value ?? ''});
    } else if (c.trait && OPS.includes(c.trait.op)) {
      rows.push({kind: 'trait', key: c.trait.key, op: c.trait.op, value: c.trait.value ?? ''});
    } else if (c.orders && c.orders.measure !== 'average_order') {
      rows.push({kind: 'orders', measure: c.orders.measure, cmp: c.orders.cmp, value: c.orders.value, within: c.orders.within || ''});
    } else if (c.has) {
      rows.push({kind: 'has', has: c.has});
    } else if (c.coupons) {
      rows.push({kind: 'coupons', promotion: c.coupons.promotion || '', cmp: c.coupons.count.cmp, n: c.coupons.count.n});
    } else if (c.points) {
      rows.push({kind: 'points', cmp: c.points.cmp, n: c.points.n});
    } else {
      return null;
    }
  }
  return {match: def.any ? 'any' : 'all', rows};
}

function select(label, value, options, onchange) {
  const s = h('select', {'aria-label': label, onchange: (e) => onchange(e.target.value)},
    options.map(([v, text]) => h('option', {value: v, selected: v === value}, text)));
  return s;
}

function input(label, value, onchange, attrs = {}) {
  return h('input', {'aria-label': label, value: value ?? '', oninput: (e) => onchange(e.target.value), ...attrs});
}

function builder(main) {
  const state = {match: 'all', rows: [{kind: 'performed', event: 'Product Viewed', cmp: '>=', n: 3, within: '30d'}], mode: 'visual'};
  const name = h('input', {required: true, maxlength: 200});
  const text = h('textarea', {rows: 4, spellcheck: 'false', oninput: () => changed('text')});
  const rowsBox = h('div', {class: 'sg-rows'});
  const estimate = h('p', {class: 'sg-estimate', role: 'status'});
  const note = h('p', {class: 'muted', role: 'note'});
  const visualPane = h('div', {class: 'sg-visual'}, rowsBox,
    h('button', {type: 'button', onclick: () => { state.rows.push({kind: 'performed', event: '', cmp: '>=', n: 1}); drawRows(); changed('visual'); }}, t('sg.add')));
  const textPane = h('div', {class: 'sg-text'}, field(t('sg.text_label'), text, t('sg.text_hint')));
  const modes = h('div', {class: 'segmented', role: 'group', 'aria-label': t('sg.mode')},
    ['visual', 'text'].map((m) => h('button', {type: 'button', 'data-mode': m, onclick: () => switchTo(m)}, t('sg.' + m))));
  let last = null;
  let timer = null;

  function drawRows() {
    const rowNodes = state.rows.map((r, i) => {
      const n = i + 1;
      const set = (k) => (v) => { r[k] = v; changed('visual'); };
      const parts = [select(t('sg.kind', {n}), r.kind, KINDS.map((k) => [k, t('sg.kind.' + k)]), (v) => { r.kind = v; drawRows(); changed('visual'); })];
      if (r.kind === 'performed' || r.kind === 'not_performed') {
        parts.push(input(t('sg.event') + ' ' + n, r.event, set('event')),
          select(t('sg.op') + ' ' + n, r.cmp, CMPS.map((c) => [c, c]), set('cmp')),
          input(t('sg.times') + ' ' + n, r.n, set('n'), {type: 'number', min: 0, class: 'narrow'}),
          input(t('sg.within') + ' ' + n, r.within, set('within'), {placeholder: '30d', class: 'narrow'}),
          input(t('sg.where') + ' ' + n, r.property, set('property'), {placeholder: 'category'}),
          input(t('sg.value') + ' ' + n, r.value, set('value')));
      } else if (r.kind === 'trait') {
        r.op ??= '=';
        parts.push(input(t('sg.key') + ' ' + n, r.key, set('key')), select(t('sg.op') + ' ' + n, r.op, OPS.map((o) => [o, o]), set('op')),
          input(t('sg.value') + ' ' + n, r.value, set('value')));
      } else if (r.kind === 'orders') {
        r.measure ??= 'order_count'; r.cmp ??= '>=';
        parts.push(select(t('sg.measure') + ' ' + n, r.measure, ['order_count', 'net_spend', 'coupon_orders'].map((m) => [m, t('sg.measure.' + m)]), set('measure')),
          select(t('sg.op') + ' ' + n, r.cmp, CMPS.map((c) => [c, c]), set('cmp')),
          input(t('sg.value') + ' ' + n, r.value, set('value'), {class: 'narrow'}),
          input(t('sg.within') + ' ' + n, r.within, set('within'), {placeholder: '90d', class: 'narrow'}));
      } else if (r.kind === 'coupons' || r.kind === 'points') {
        r.cmp ??= '>='; r.n ??= r.kind === 'points' ? 100 : 1;
        if (r.kind === 'coupons') parts.push(input(t('sg.template') + ' ' + n, r.promotion, set('promotion'), {placeholder: 'spring'}));
        parts.push(select(t('sg.op') + ' ' + n, r.cmp, CMPS.map((c) => [c, c]), set('cmp')),
          input(t('sg.count') + ' ' + n, r.n, set('n'), {type: 'number', min: 0, class: 'narrow'}));
      } else {
        r.has ??= 'phone';
        parts.push(select(t('sg.kind.has') + ' ' + n, r.has, ['phone', 'email', 'openid', 'unionid'].map((k) => [k, k]), set('has')));
      }
      parts.push(h('button', {type: 'button', 'aria-label': t('sg.remove', {n}), onclick: () => { state.rows.splice(i, 1); drawRows(); changed('visual'); }}, '×'));
      return h('div', {class: 'sg-row'}, parts);
    });
    mount(rowsBox, h('div', {class: 'sg-match'}, h('span', {}, t('sg.match')),
      select(t('sg.match'), state.match, [['all', t('sg.match.all')], ['any', t('sg.match.any')]], (v) => { state.match = v; changed('visual'); })), rowNodes);
  }

  function definition() {
    const leaves = state.rows.map(leafOf);
    return state.match === 'any' ? {any: leaves} : {all: leaves};
  }

  function switchTo(mode) {
    state.mode = mode;
    for (const b of modes.children) b.setAttribute('aria-pressed', String(b.dataset.mode === mode));
    visualPane.hidden = mode !== 'visual';
    textPane.hidden = mode !== 'text';
    note.textContent = '';
    if (mode === 'visual' && last?.definition) {
      const fit = rowsOf(last.definition);
      if (fit) { state.match = fit.match; state.rows = fit.rows; drawRows(); } else { note.textContent = t('sg.too_complex'); switchTo('text'); }
    }
  }

  function changed(from) {
    clearTimeout(timer);
    estimate.textContent = t('sg.estimating');
    timer = setTimeout(() => run(from), 300);
  }

  async function run(from) {
    const body = from === 'text' ? {text: text.value, sample: 0} : {definition: definition(), sample: 0};
    try {
      const r = await post('/api/v1/segments/estimate', body);
      last = r;
      fieldError(text, '');
      if (from === 'visual') text.value = r.text;
      const share = r.profiles ? (100 * r.count / r.profiles).toFixed(1) + '%' : '0%';
      estimate.textContent = t('sg.estimate', {count: number(r.count), profiles: number(r.profiles), share});
    } catch (e) {
      last = null;
      estimate.textContent = '';
      const where = e.details?.position != null ? ` (${e.details.position + 1})` : '';
      fieldError(text, e.message + where);
      if (from === 'visual') estimate.textContent = errorText(e);
    }
  }

  async function save(e) {
    e.preventDefault();
    const body = {name: name.value.trim(), ...(state.mode === 'text' ? {text: text.value} : {definition: definition()})};
    try {
      const s = await post('/api/v1/segments', body);
      location.hash = '#/segments/' + enc(s.id);
    } catch (err) {
      estimate.textContent = errorText(err);
    }
  }

  const form = h('form', {class: 'card sg-builder', onsubmit: save},
    field(t('sg.name'), name), h('h2', {}, t('sg.builder')), modes, note, visualPane, textPane, estimate,
    h('button', {type: 'submit', class: 'primary'}, t('sg.save')));
  mount(main, h('p', {}, h('a', {href: '#/segments'}, '← ', t('sg.back'))), h('h1', {}, t('sg.new')), form);
  drawRows();
  switchTo('visual');
  changed('visual');
}

// ---- one segment ------------------------------------------------------------

function detail(main, id, canEdit) {
  const head = h('div', {});
  const flash = h('p', {role: 'status', class: 'muted'});
  const chart = h('div', {class: 'sg-chart', role: 'img', 'aria-label': t('sg.history')});
  const members = h('div', {});
  mount(main, h('p', {}, h('a', {href: '#/segments'}, '← ', t('sg.back'))), head, flash,
    h('section', {class: 'card', 'aria-labelledby': 'sg-history'}, h('h2', {id: 'sg-history'}, t('sg.history')), chart),
    h('section', {class: 'card', 'aria-labelledby': 'sg-members'}, h('h2', {id: 'sg-members'}, t('sg.member_list')), members));
  const act = async (action) => {
    try {
      const r = await post(`/api/v1/segments/${enc(id)}/${action}`);
      flash.textContent = action === 'refresh' ? t('sg.refreshed', {entered: number(r.entered), exited: number(r.exited)}) : '';
      show();
    } catch (e) {
      flash.textContent = errorText(e);
    }
  };
  function show() {
    loadInto(head, async () => {
      const s = await get('/api/v1/segments/' + enc(id));
      document.title = `${s.name} · ${t('sg.title')} · Beacon`;
      return [h('h1', {}, s.name), facts([
        [t('sg.condition'), h('code', {class: 'sg-code'}, s.text)],
        [t('sg.members'), number(s.members)],
        [t('sg.status'), badge(t('sg.status.' + s.status), s.status === 'active' ? 'ok' : '')],
        [t('sg.evaluated'), s.evaluated_at ? dateTime(s.evaluated_at) : null],
      ]), h('p', {class: 'actions'},
        h('a', {href: `/api/v1/segments/${enc(id)}/export`, download: `segment-${id}.csv`, class: 'button'}, t('sg.export')),
        canEdit && s.status === 'active' ? h('button', {type: 'button', onclick: () => act('refresh')}, t('sg.refresh')) : null,
        canEdit ? h('button', {type: 'button', onclick: () => act(s.status === 'active' ? 'archive' : 'activate')},
          t(s.status === 'active' ? 'sg.archive' : 'sg.activate')) : null)];
    });
    drawHistory(chart, id);
  }
  show();
  mount(members, pager((cursor) => get(query(`/api/v1/segments/${enc(id)}/members`, {cursor, limit: 50})),
    (items) => table([
      [t('sg.profile'), (m) => h('a', {href: '#/customers/' + enc(m.profile_id)}, m.profile_id)],
      [t('sg.since'), (m) => dateTime(m.since)],
    ], items, t('sg.member_list'))));
}

async function drawHistory(box, id) {
  try {
    const [r, charts] = await Promise.all([get(`/api/v1/segments/${enc(id)}/history`), echarts()]);
    const chart = charts.getInstanceByDom(box) || charts.init(box, null, {renderer: 'svg'});
    chart.setOption({
      grid: {left: 48, right: 16, top: 16, bottom: 32}, tooltip: {trigger: 'axis'},
      xAxis: {type: 'time'}, yAxis: {type: 'value', minInterval: 1},
      series: [{type: 'line', step: 'end', name: t('sg.members'), data: r.items.map((p) => [p.hour, p.members])}],
    });
  } catch (e) {
    mount(box, h('p', {class: 'error', role: 'alert'}, errorText(e)));
  }
}

