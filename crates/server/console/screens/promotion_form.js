// The promotion form: create (#/promotions/new) or edit (#/promotions/<id>)
// one, with an "advanced (JSON)" view of the whole spec kept in sync for the
// fields the form does not cover (docs/promotions.md). Also the statuses and
// reward types promotions.js (the list) shares; their words (pr.status.*,
// pr.type.*, pr.new) are registered there, those of limits (lim.*) by
// simulator.js.

import {api, get, post} from '../api.js';
import {h, mount, field, fieldError} from '../dom.js';
import {t, errorText, register} from '../i18n.js';
import {shopInfo, offsetMinutes} from '../format.js';
import {badge} from '../widgets.js';

register({
  'zh-CN': {
    'pr.edit': '编辑活动', 'pr.back': '返回活动列表', 'pr.basics': '基本信息', 'pr.f.id': '活动编号', 'pr.f.name': '活动名称',
    'pr.f.status': '创建后的状态', 'pr.h.id': '用于接口和计价说明；创建后不能修改，不能以 ~ 开头。', 'pr.h.status': '进行中、待开始的活动在活动时间内生效。', 'pr.f.starts_at': '开始时间',
    'pr.f.ends_at': '结束时间（不含）', 'pr.h.time': '店铺时区 {tz}；留空表示不限。', 'pr.f.coupon': '优惠券码', 'pr.h.coupon': '顾客须输入这个共享券码；留空则自动生效。', 'pr.f.min_spend': '最低消费',
    'pr.h.min_spend': '适用商品合计至少这么多才生效（可选）。', 'pr.f.priority': '优先级', 'pr.h.priority': '数字大的先计算，默认 0。', 'pr.stacking': '叠加规则', 'pr.f.group': '叠加分组',
    'pr.h.group': '默认 default。', 'pr.f.not_with': '不与这些分组同享', 'pr.f.exclusive': '组内互斥（同组只用最优的一个）', 'pr.f.always': '总是生效（价格类活动，如会员价、秒杀价）',
    'pr.reward': '优惠内容', 'pr.f.type': '优惠类型', 'pr.choose': '请选择', 'pr.f.amount': '立减金额', 'pr.f.percent': '减免比例（%）',
    'pr.h.percent': '0–100，如 10 表示减 10%（9折）。', 'pr.f.max_discount': '最多优惠', 'pr.h.optional': '可选。', 'pr.f.every': '每满', 'pr.f.amount_off': '减',
    'pr.f.price': '特价（单价）', 'pr.h.price': '需要在"适用范围"里指定商品。', 'pr.f.buy': '买几件', 'pr.f.get': '送几件', 'pr.f.percent_off': '赠送件减免比例（%）',
    'pr.h.percent_off': '默认 100，即免费；50 即第二件半价。', 'pr.f.max_times': '最多几次', 'pr.f.get_products': '赠送指定商品', 'pr.h.list': '多个用逗号分隔。',
    'pr.f.product_id': '赠品商品编号', 'pr.f.sku': '赠品 SKU', 'pr.f.quantity': '赠品数量', 'pr.f.basis': '门槛按', 'pr.basis.amount': '金额', 'pr.basis.items': '件数',
    'pr.tier_min': '第 {n} 档门槛', 'pr.tier_kind': '第 {n} 档优惠方式', 'pr.tier_value': '第 {n} 档优惠值', 'pr.kind.amount_off': '减金额',
    'pr.kind.percent_off': '减比例（%）', 'pr.add_tier': '添加一档', 'pr.remove_tier': '删除第 {n} 档', 'pr.target': '适用范围',
    'pr.h.target': '都留空表示整单适用；多个用逗号分隔；类目包含其下级，如 茶叶/绿茶。', 'pr.f.products': '商品编号或 SKU', 'pr.f.categories': '类目', 'pr.f.brands': '品牌', 'pr.f.tags': '商品标签',
    'pr.limits': '限制与预算', 'pr.h.limits': '最多 8 条。', 'pr.add_limit': '添加限制', 'pr.remove_limit': '删除第 {n} 条限制', 'pr.l.counter': '第 {n} 条：计数',
    'pr.l.limit': '第 {n} 条：上限', 'pr.l.period': '第 {n} 条：周期', 'pr.l.scope': '第 {n} 条：范围', 'pr.advanced': '高级（JSON）', 'pr.json': '完整设置（JSON）',
    'pr.h.json': '与上面的表单同步；表单未覆盖的设置（券模板 codes、拼团 group_buy、限时时段 schedule、参与条件 eligibility）在这里编辑。', 'pr.bad_json': 'JSON 格式不正确：{message}',
    'pr.json_object': '促销设置必须是一个 JSON 对象。', 'pr.saving': '正在保存…', 'pr.saved': '「{name}」已保存。',
    'pr.conflict': '你打开的是版本 {version}，之后别人修改了这个活动。请重新加载，再做你的修改。', 'pr.reload': '重新加载', 'pr.read_only': '你的角色只能查看，不能修改活动。',
    'pr.ended_note': '已结束的活动不能修改；可以复制 JSON 新建一个。', 'pr.now_status': '当前状态：', 'pr.h.lifecycle': '启用、暂停、恢复、结束在活动列表里操作。',
  },
  en: {
    'pr.edit': 'Edit promotion', 'pr.back': 'Back to promotions', 'pr.basics': 'Basics',
    'pr.f.id': 'Promotion id', 'pr.f.name': 'Name', 'pr.f.status': 'Status once created',
    'pr.h.id': 'Named in the API and in explanations; cannot change later, may not start with ~.',
    'pr.h.status': 'Active and scheduled promotions apply within their window.', 'pr.f.starts_at': 'Starts', 'pr.f.ends_at': 'Ends (excluded)',
    'pr.h.time': 'Shop time zone {tz}; empty: no bound.', 'pr.f.coupon': 'Coupon code',
    'pr.h.coupon': 'A shared code the shopper must enter; empty: automatic.', 'pr.f.min_spend': 'Minimum spend',
    'pr.h.min_spend': 'The targeted lines must add up to this (optional).', 'pr.f.priority': 'Priority',
    'pr.h.priority': 'Higher applies first; default 0.', 'pr.stacking': 'Stacking', 'pr.f.group': 'Stacking group', 'pr.h.group': 'Default: default.',
    'pr.f.not_with': 'Never with these groups', 'pr.f.exclusive': 'Exclusive within its group (the best one wins)',
    'pr.f.always': 'Always applies (a price: member price, flash sale)', 'pr.reward': 'Reward', 'pr.f.type': 'Reward type', 'pr.choose': 'Choose…',
    'pr.f.amount': 'Amount off', 'pr.f.percent': 'Percent off', 'pr.h.percent': '0–100; 10 takes 10% off.', 'pr.f.max_discount': 'At most',
    'pr.h.optional': 'Optional.', 'pr.f.every': 'For every', 'pr.f.amount_off': 'Take off', 'pr.f.price': 'Special unit price',
    'pr.h.price': 'Needs products under "Applies to".', 'pr.f.buy': 'Buy (units)', 'pr.f.get': 'Get (units)',
    'pr.f.percent_off': 'Percent off the units got', 'pr.h.percent_off': 'Default 100 (free); 50: second one half price.',
    'pr.f.max_times': 'At most (times)', 'pr.f.get_products': 'Units got are of these products', 'pr.h.list': 'Separate with commas.',
    'pr.f.product_id': 'Gift product id', 'pr.f.sku': 'Gift SKU', 'pr.f.quantity': 'Gift quantity', 'pr.f.basis': 'Thresholds by',
    'pr.basis.amount': 'Amount', 'pr.basis.items': 'Item count', 'pr.tier_min': 'Tier {n} threshold', 'pr.tier_kind': 'Tier {n} kind',
    'pr.tier_value': 'Tier {n} value', 'pr.kind.amount_off': 'Amount off', 'pr.kind.percent_off': 'Percent off', 'pr.add_tier': 'Add a tier',
    'pr.remove_tier': 'Remove tier {n}', 'pr.target': 'Applies to',
    'pr.h.target': 'All empty: the whole order. Separate with commas; a category includes those below it (Tea/Green).',
    'pr.f.products': 'Product ids or SKUs', 'pr.f.categories': 'Categories', 'pr.f.brands': 'Brands', 'pr.f.tags': 'Product tags',
    'pr.limits': 'Limits and budgets', 'pr.h.limits': 'At most 8.', 'pr.add_limit': 'Add a limit', 'pr.remove_limit': 'Remove limit {n}',
    'pr.l.counter': 'Limit {n}: counts', 'pr.l.limit': 'Limit {n}: at most', 'pr.l.period': 'Limit {n}: period', 'pr.l.scope': 'Limit {n}: per',
    'pr.advanced': 'Advanced (JSON)', 'pr.json': 'Whole spec (JSON)',
    'pr.h.json': 'Kept in sync with the form; edit here what the form does not cover (codes, group_buy, schedule, eligibility).',
    'pr.bad_json': 'Not valid JSON: {message}', 'pr.json_object': 'A promotion is a JSON object.', 'pr.saving': 'Saving…', 'pr.saved': '“{name}” saved.',
    'pr.conflict': 'You opened version {version}; someone else changed this promotion since. Reload it, then make your change again.',
    'pr.reload': 'Reload', 'pr.read_only': 'Your role may view promotions, not change them.',
    'pr.ended_note': 'An ended promotion cannot change; copy its JSON into a new one.', 'pr.now_status': 'Status now: ',
    'pr.h.lifecycle': 'Activate, pause, resume and end from the list.',
  },
});

export const STATUSES = ['draft', 'scheduled', 'active', 'paused', 'ended'];
export const TYPES = ['tiers', 'every', 'amount_off', 'percent_off', 'special_price', 'buy_x_get_y', 'gift', 'free_shipping'];
export const KIND = {active: 'ok', scheduled: 'warn', paused: 'warn', ended: 'bad'};
export const statusName = (s) => (STATUSES.includes(s) ? t('pr.status.' + s) : s || '—');
const COUNTERS = ['redemptions', 'discount', 'units'];
const PERIODS = ['total', 'day', 'week', 'month'];
const SCOPES = ['promotion', 'coupon', 'profile', 'identity', 'store'];
const enc = encodeURIComponent;

/** The form into `main`; `onSaved(message)` runs before going back to the list. */
export function form(main, id, canEdit, onSaved) {
  const box = h('div', {'aria-busy': 'true'}, h('p', {class: 'muted'}, t('common.loading')));
  mount(main, h('p', {}, h('a', {href: '#/promotions'}, '← ' + t('pr.back'))), h('h1', {}, id ? t('pr.edit') : t('pr.new')), box);
  if (!id) return editor(box, {id: '', name: '', status: 'draft', reward: {type: 'tiers', tiers: [{}]}}, null, canEdit, main, onSaved);
  get('/api/v1/promotions/' + enc(id)).then((p) => editor(box, p.spec, p, canEdit, main, onSaved),
    (e) => mount(box, h('p', {class: 'error', role: 'alert'}, errorText(e))));
}

// Reading and writing the spec at a path (['reward', 'tiers', 0, 'min']).
const keyOf = (path) => path.map((k, i) => (typeof k === 'number' ? `[${k}]` : (i ? '.' : '') + k)).join('');
const getIn = (o, path) => path.reduce((x, k) => (x == null ? undefined : x[k]), o);
function setIn(o, path, value) {
  const chain = [o];
  for (const [i, k] of path.slice(0, -1).entries()) {
    const x = chain[i];
    if (x[k] == null || typeof x[k] !== 'object') x[k] = {};
    chain.push(x[k]);
  }
  if (value === undefined) delete chain.at(-1)[path.at(-1)];
  else chain.at(-1)[path.at(-1)] = value;
  // an emptied object (target, stacking…) goes, so it is not an empty rule
  for (let i = chain.length - 1; i > 0; i--) {
    if (Array.isArray(chain[i]) || Array.isArray(chain[i - 1]) || Object.keys(chain[i]).length || path[i - 1] === 'reward') break;
    delete chain[i - 1][path[i - 1]];
  }
}
const toLocal = (iso) => (iso && !Number.isNaN(Date.parse(iso)) ? new Date(Date.parse(iso) + offsetMinutes() * 60000).toISOString().slice(0, 16) : '');
const KINDS = {
  text: [(v) => v ?? '', (s) => (s.trim() === '' ? undefined : s.trim())],
  int: [(v) => v ?? '', (s) => (s.trim() === '' ? undefined : /^-?\d+$/.test(s.trim()) ? Number(s) : s)],
  list: [(v) => (Array.isArray(v) ? v.join(', ') : v ?? ''), (s) => { const l = s.split(/[,，、]/).map((x) => x.trim()).filter(Boolean); return l.length ? l : undefined; }],
  time: [toLocal, (s) => (s ? `${s.length === 16 ? s + ':00' : s}${shopInfo().utc_offset || 'Z'}` : undefined)],
};
const REWARD_FIELDS = {
  amount_off: [['amount']], percent_off: [['percent', 'text', 'pr.h.percent'], ['max_discount', 'text', 'pr.h.optional']],
  every: [['every'], ['amount_off'], ['max_discount', 'text', 'pr.h.optional']], special_price: [['price', 'text', 'pr.h.price']],
  buy_x_get_y: [['buy', 'int'], ['get', 'int'], ['percent_off', 'text', 'pr.h.percent_off'], ['max_times', 'int', 'pr.h.optional'], ['get_products', 'list', 'pr.h.list']],
  gift: [['product_id'], ['sku', 'text', 'pr.h.optional'], ['quantity', 'int']], free_shipping: [['max_discount', 'text', 'pr.h.optional']],
};

function editor(box, initial, stored, canEdit, main, onSaved) {
  let spec = structuredClone(initial);
  let controls = {};
  const locked = !canEdit || stored?.status === 'ended';
  const json = h('textarea', {class: 'p-json', rows: 18, spellcheck: 'false', readonly: locked});
  const sync = () => { json.value = JSON.stringify(spec, null, 2); };
  const fields = h('div');
  const alert = h('div', {role: 'alert', class: 'p-alert', tabindex: '-1'});
  const save = h('button', {type: 'submit', class: 'primary', disabled: locked}, t('common.save'));

  const input = (path, kind = 'text', attrs = {}) => {
    const [show, read] = KINDS[kind];
    const el = h('input', {type: kind === 'time' ? 'datetime-local' : kind === 'int' ? 'number' : 'text', value: show(getIn(spec, path)), ...attrs});
    el.addEventListener('input', () => { setIn(spec, path, read(el.value)); sync(); });
    controls[keyOf(path)] = el;
    return el;
  };
  const select = (path, values, label, dflt, onchange) => {
    const cur = getIn(spec, path) ?? dflt;
    const el = h('select', {}, values.map((v) => h('option', {value: v, selected: v === cur}, label(v))));
    el.addEventListener('change', () => { setIn(spec, path, el.value === dflt || el.value === '' ? undefined : el.value); onchange?.(); sync(); });
    controls[keyOf(path)] = el;
    return el;
  };
  const check = (path, label) => {
    const el = h('input', {type: 'checkbox', id: 'p-' + keyOf(path).replace(/\W/g, '-'), checked: Boolean(getIn(spec, path))});
    el.addEventListener('change', () => { setIn(spec, path, el.checked || undefined); sync(); });
    return h('div', {class: 'p-check'}, el, h('label', {for: el.id}, label));
  };
  const text = (path, key, kind, hint, attrs) => field(t(key), input(path, kind, attrs), hint ? t(hint) : null);
  const tz = {tz: shopInfo().utc_offset};

  function basics() {
    return h('fieldset', {}, h('legend', {}, t('pr.basics')),
      h('div', {class: 'grid2'}, text(['id'], 'pr.f.id', 'text', 'pr.h.id', {required: true, maxlength: 100, readonly: Boolean(stored), autocomplete: 'off'}),
        text(['name'], 'pr.f.name', 'text', null, {required: true, maxlength: 100}),
        stored ? h('div', {class: 'field'}, h('p', {}, t('pr.now_status'), badge(statusName(stored.effective_status), KIND[stored.effective_status])), h('p', {class: 'hint'}, t('pr.h.lifecycle')))
          : field(t('pr.f.status'), select(['status'], ['draft', 'scheduled', 'active'], statusName, 'draft'), t('pr.h.status')),
        field(t('pr.f.starts_at'), input(['starts_at'], 'time'), t('pr.h.time', tz)), field(t('pr.f.ends_at'), input(['ends_at'], 'time'), t('pr.h.time', tz)),
        text(['coupon'], 'pr.f.coupon', 'text', 'pr.h.coupon', {autocomplete: 'off'}), text(['min_spend'], 'pr.f.min_spend', 'text', 'pr.h.min_spend', {inputmode: 'decimal'}),
        text(['priority'], 'pr.f.priority', 'int', 'pr.h.priority')),
      h('fieldset', {}, h('legend', {}, t('pr.stacking')), h('div', {class: 'grid2'},
        text(['stacking', 'group'], 'pr.f.group', 'text', 'pr.h.group'), text(['stacking', 'not_with'], 'pr.f.not_with', 'list', 'pr.h.list')),
      check(['stacking', 'exclusive'], t('pr.f.exclusive')), check(['stacking', 'always'], t('pr.f.always'))));
  }

  function reward() {
    const type = TYPES.includes(spec.reward?.type) ? spec.reward.type : '';
    const body = h('div', {class: 'grid2'});
    const typeSel = h('select', {}, h('option', {value: ''}, t('pr.choose')), TYPES.map((v) => h('option', {value: v, selected: v === type}, t('pr.type.' + v))));
    typeSel.addEventListener('change', () => {
      spec.reward = typeSel.value === 'tiers' ? {type: 'tiers', tiers: [{}]} : typeSel.value ? {type: typeSel.value} : {};
      sync();
      for (const k of Object.keys(controls)) if (k.startsWith('reward')) delete controls[k];
      section.replaceWith(reward());
      controls.reward.focus();
    });
    controls.reward = typeSel;
    controls['reward.type'] = typeSel;
    if (type === 'tiers') body.append(field(t('pr.f.basis'), select(['reward', 'basis'], ['amount', 'items'], (v) => t('pr.basis.' + v), 'amount')), tiers());
    for (const [name, kind = 'text', hint] of REWARD_FIELDS[type] || []) body.append(text(['reward', name], 'pr.f.' + name, kind, hint, kind === 'text' ? {inputmode: name.includes('product') || name === 'sku' ? null : 'decimal'} : {min: 0}));
    const section = h('fieldset', {}, h('legend', {}, t('pr.reward')), field(t('pr.f.type'), typeSel), body);
    return section;
  }

  function rows(path, make, addKey, fresh) {
    const wrap = h('div', {class: 'p-rows'});
    const draw = () => mount(wrap, (getIn(spec, path) || []).map((item, i) => make(item, i, () => {
      getIn(spec, path).splice(i, 1);
      if (!getIn(spec, path).length && path[0] === 'limits') delete spec.limits;
      draw(); sync(); add.focus();
    })));
    const add = h('button', {type: 'button', onclick: () => {
      if (!getIn(spec, path)) setIn(spec, path, []);
      getIn(spec, path).push(fresh());
      draw(); sync(); wrap.lastChild?.querySelector('input, select')?.focus();
    }}, t(addKey));
    draw();
    return h('div', {}, wrap, add);
  }

  function tiers() {
    return rows(['reward', 'tiers'], (tier, i, remove) => {
      const n = i + 1;
      const kind = tier.percent_off != null ? 'percent_off' : 'amount_off';
      const value = h('input', {value: tier[kind] ?? '', inputmode: 'decimal'});
      const kindSel = h('select', {}, ['amount_off', 'percent_off'].map((k) => h('option', {value: k, selected: k === kind}, t('pr.kind.' + k))));
      const write = () => {
        delete tier.amount_off; delete tier.percent_off;
        if (value.value.trim()) tier[kindSel.value] = value.value.trim();
        controls[`reward.tiers[${i}].${kindSel.value}`] = value;
        sync();
      };
      value.addEventListener('input', write);
      kindSel.addEventListener('change', write);
      controls[`reward.tiers[${i}]`] = value;
      controls[`reward.tiers[${i}].${kind}`] = value;
      return h('div', {class: 'p-row'}, field(t('pr.tier_min', {n}), input(['reward', 'tiers', i, 'min'], 'text', {inputmode: 'decimal'})),
        field(t('pr.tier_kind', {n}), kindSel), field(t('pr.tier_value', {n}), value),
        h('button', {type: 'button', class: 'link', onclick: remove}, t('pr.remove_tier', {n})));
    }, 'pr.add_tier', () => ({}));
  }

  function target() {
    const set = h('fieldset', {}, h('legend', {}, t('pr.target')), h('p', {class: 'hint'}, t('pr.h.target')), h('div', {class: 'grid2'},
      ['products', 'categories', 'brands', 'tags'].map((k) => text(['target', k], 'pr.f.' + k, 'list'))));
    controls.target = controls['target.products'];
    return set;
  }

  function limits() {
    const list = rows(['limits'], (l, i, remove) => {
      const n = i + 1;
      const p = (k) => ['limits', i, k];
      return h('div', {class: 'p-row'},
        field(t('pr.l.counter', {n}), select(p('counter'), COUNTERS, (v) => t('lim.counter.' + v))),
        field(t('pr.l.limit', {n}), input(p('limit'), 'text', {inputmode: 'decimal'})),
        field(t('pr.l.period', {n}), select(p('period'), PERIODS, (v) => t('lim.period.' + v))),
        field(t('pr.l.scope', {n}), select(p('scope'), SCOPES, (v) => t('lim.scope.' + v))),
        h('button', {type: 'button', class: 'link', onclick: remove}, t('pr.remove_limit', {n})));
    }, 'pr.add_limit', () => ({counter: 'redemptions', limit: '', period: 'total', scope: 'promotion'}));
    return h('fieldset', {}, h('legend', {}, t('pr.limits')), h('p', {class: 'hint'}, t('pr.h.limits')), list);
  }

  function build() {
    controls = {};
    mount(fields, basics(), reward(), target(), limits());
  }

  json.addEventListener('input', () => {
    let v;
    try { v = JSON.parse(json.value); } catch (e) { return fieldError(json, t('pr.bad_json', {message: e.message})); }
    if (!v || typeof v !== 'object' || Array.isArray(v)) return fieldError(json, t('pr.json_object'));
    fieldError(json, '');
    spec = v;
    build();
  });

  /** The control the server's message names (the earliest named, then the longest name). */
  function named(message) {
    const text = message.replace(/^promotion\s*(?:"(?:[^"\\]|\\.)*")?:\s*/, '');
    if (/^unknown (field|variant)|^invalid type|^expected/.test(text)) return json;
    let best = null;
    for (const [k, el] of Object.entries(controls)) {
      if (!el) continue;
      const esc = k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const m = new RegExp(`(?<![\\w.\\]])\`?${esc}\`?(?![\\w[])`).exec(text);
      if (m && (!best || m.index < best.at || (m.index === best.at && k.length > best.k.length))) best = {k, el, at: m.index};
    }
    return best?.el;
  }

  const formEl = h('form', {class: 'p-form', novalidate: true},
    locked ? h('p', {class: 'card muted'}, t(canEdit ? 'pr.ended_note' : 'pr.read_only')) : null, alert,
    h('fieldset', {class: 'p-plain', disabled: locked}, fields),
    h('details', {class: 'card'}, h('summary', {}, t('pr.advanced')), field(t('pr.json'), json, t('pr.h.json'))),
    h('div', {class: 'p-savebar'}, save));
  formEl.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const el of [...Object.values(controls), json]) if (el?.id) fieldError(el, '');
    mount(alert);
    save.disabled = true;
    save.textContent = t('pr.saving');
    try {
      const saved = stored ? await api('PUT', `/api/v1/promotions/${enc(stored.id)}?if_version=${stored.version}`, spec)
        : await post('/api/v1/promotions', spec);
      onSaved(t('pr.saved', {name: saved.spec?.name || saved.id}));
      location.hash = '#/promotions';
    } catch (err) {
      save.disabled = false;
      save.textContent = t('common.save');
      const said = errorText(err);
      const extra = err.message && !said.includes(err.message) ? err.message : '';
      const stale = stored && err.code === 'conflict' && /changed since/.test(err.message);
      mount(alert, h('p', {class: 'error'}, said), extra ? h('p', {class: 'error'}, extra) : null,
        stale ? h('p', {}, t('pr.conflict', {version: stored.version}), ' ', h('button', {type: 'button', onclick: () => form(main, stored.id, canEdit, onSaved)}, t('pr.reload'))) : null);
      const el = err.code === 'invalid_promotion' ? named(err.message) : !stored && err.code === 'conflict' ? controls.id : null;
      if (el?.id) { fieldError(el, `${said} ${extra}`.trim()); el.focus(); } else alert.focus();
    }
  });
  build();
  sync();
  box.removeAttribute('aria-busy');
  mount(box, formEl);
}
