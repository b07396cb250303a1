// Promotions: the list (status filter, lifecycle actions, usage of limits);
// the form to create or edit one is promotion_form.js. The words of limits
// (counter, period, scope) are registered by simulator.js.

import {get, post, query} from '../api.js';
import {h, mount, field} from '../dom.js';
import {t, errorText, register} from '../i18n.js';
import {money, number, dateTime, shopInfo} from '../format.js';
import {pager, badge} from '../widgets.js';
import {STATUSES, TYPES, KIND, statusName, form} from './promotion_form.js';
import {showCodes, showTeams} from './promotion_extras.js';

register({
  'zh-CN': {
    'pr.new': '新建活动', 'pr.filter': '按状态筛选', 'pr.all': '全部', 'pr.list': '促销活动列表', 'pr.name': '活动', 'pr.type': '类型',
    'pr.status': '状态', 'pr.window': '活动时间', 'pr.version': '版本', 'pr.actions': '操作', 'pr.anytime': '不限时间', 'pr.from_on': '{at} 起', 'pr.until': '至 {at}',
    'pr.stored': '设定状态：{status}', 'pr.status.draft': '草稿', 'pr.status.scheduled': '待开始', 'pr.status.active': '进行中', 'pr.status.paused': '已暂停',
    'pr.status.ended': '已结束', 'pr.type.tiers': '满减', 'pr.type.every': '每满减', 'pr.type.amount_off': '立减', 'pr.type.percent_off': '折扣',
    'pr.type.special_price': '特价', 'pr.type.buy_x_get_y': '买赠', 'pr.type.gift': '赠品', 'pr.type.free_shipping': '包邮', 'pr.act.activate': '启用',
    'pr.act.pause': '暂停', 'pr.act.resume': '恢复', 'pr.act.end': '结束', 'pr.act.usage': '用量', 'pr.confirm_end': '结束后不能再启用或修改。确定结束「{name}」吗？',
    'pr.confirm': '确认结束', 'pr.cancel': '取消', 'pr.done.activate': '「{name}」已启用。', 'pr.done.pause': '「{name}」已暂停。', 'pr.done.resume': '「{name}」已恢复。',
    'pr.done.end': '「{name}」已结束。', 'pr.usage': '用量：{name}', 'pr.close': '关闭', 'pr.limit': '限制', 'pr.period_key': '周期', 'pr.subject': '对象',
    'pr.used': '已用', 'pr.max': '上限', 'pr.everyone': '全部', 'pr.no_limits': '这个活动没有设置限制或预算。', 'pr.counts.issued': '已发券码', 'pr.counts.held': '客户领券数',
    'pr.counts.code': '券码使用', 'pr.stock': '秒杀库存：已售 {sold}，剩余 {left}（共 {max}）', 'pr.stock_bar': '已售比例', 'pr.sum.tier': '满{min}减{off}', 'pr.sum.tier_pct': '满{min}打{zhe}折', 'pr.sum.items': '{n}件',
    'pr.sum.every': '每满{every}减{off}', 'pr.sum.amount': '减{off}', 'pr.sum.percent': '{zhe}折',
  },
  en: {
    'pr.new': 'New promotion', 'pr.filter': 'Filter by status', 'pr.all': 'All',
    'pr.list': 'Promotions', 'pr.name': 'Promotion', 'pr.type': 'Type', 'pr.status': 'Status', 'pr.window': 'Runs', 'pr.version': 'Version',
    'pr.actions': 'Actions', 'pr.anytime': 'Any time', 'pr.from_on': 'From {at}', 'pr.until': 'Until {at}', 'pr.stored': 'Set to: {status}',
    'pr.status.draft': 'Draft', 'pr.status.scheduled': 'Scheduled', 'pr.status.active': 'Active', 'pr.status.paused': 'Paused',
    'pr.status.ended': 'Ended', 'pr.type.tiers': 'Spend tiers', 'pr.type.every': 'Per-step off', 'pr.type.amount_off': 'Amount off',
    'pr.type.percent_off': 'Percent off', 'pr.type.special_price': 'Special price', 'pr.type.buy_x_get_y': 'Buy X get Y', 'pr.type.gift': 'Gift',
    'pr.type.free_shipping': 'Free shipping', 'pr.act.activate': 'Activate', 'pr.act.pause': 'Pause', 'pr.act.resume': 'Resume', 'pr.act.end': 'End',
    'pr.act.usage': 'Usage', 'pr.confirm_end': 'An ended promotion can never run or change again. End “{name}”?', 'pr.confirm': 'Yes, end it',
    'pr.cancel': 'Cancel', 'pr.done.activate': '“{name}” activated.', 'pr.done.pause': '“{name}” paused.', 'pr.done.resume': '“{name}” resumed.',
    'pr.done.end': '“{name}” ended.', 'pr.usage': 'Usage: {name}', 'pr.close': 'Close', 'pr.limit': 'Limit', 'pr.period_key': 'Period',
    'pr.subject': 'Counted for', 'pr.used': 'Used', 'pr.max': 'Limit', 'pr.everyone': 'Everyone',
    'pr.no_limits': 'This promotion has no limits or budgets.', 'pr.counts.issued': 'Codes issued', 'pr.counts.held': 'Codes held',
    'pr.counts.code': 'Code used', 'pr.stock': 'Flash-sale stock: {sold} sold, {left} left (of {max})', 'pr.stock_bar': 'Sold', 'pr.sum.tier': '{off} off {min}', 'pr.sum.tier_pct': '{pct}% off {min}', 'pr.sum.items': '{n} items',
    'pr.sum.every': '{off} off every {every}', 'pr.sum.amount': '{off} off', 'pr.sum.percent': '{pct}% off',
  },
});

const ACTIONS = {draft: ['activate', 'end'], scheduled: ['pause', 'end'], active: ['pause', 'end'], paused: ['resume', 'end'], ended: []};
const enc = encodeURIComponent;

let chosen = '';
let flash = '';

export function render(main, {session}) {
  const sub = /^#\/promotions\/([^?]+)/.exec(location.hash);
  const canEdit = ['admin', 'marketer'].includes(session.role);
  if (sub) return form(main, sub[1] === 'new' ? null : decodeURIComponent(sub[1]), canEdit, (message) => { flash = message; });
  list(main, canEdit);
}

const typeName = (type) => (TYPES.includes(type) ? t('pr.type.' + type) : type || '—');
const zhe = (pct) => String(Math.round((100 - Number(pct)) * 10) / 100).replace(/\.0+$/, '');

/** 满100减15 / 15 off 100… from a reward spec (empty when it says nothing short). */
function summary(r) {
  if (!r) return '';
  const m = (a) => (a == null ? '?' : money(a));
  const items = r.basis === 'items';
  switch (r.type) {
    case 'tiers': return (r.tiers || []).map((x) => {
      const min = items ? t('pr.sum.items', {n: x.min}) : m(x.min);
      return x.percent_off != null ? t('pr.sum.tier_pct', {min, pct: x.percent_off, zhe: zhe(x.percent_off)}) : t('pr.sum.tier', {min, off: m(x.amount_off)});
    }).join(' · ');
    case 'every': return t('pr.sum.every', {every: m(r.every), off: m(r.amount_off)});
    case 'amount_off': return t('pr.sum.amount', {off: m(r.amount)});
    case 'percent_off': return t('pr.sum.percent', {pct: r.percent, zhe: zhe(r.percent)});
    default: return '';
  }
}

function windowText(s) {
  if (s.starts_at && s.ends_at) return `${dateTime(s.starts_at)} – ${dateTime(s.ends_at)}`;
  if (s.starts_at) return t('pr.from_on', {at: dateTime(s.starts_at)});
  return s.ends_at ? t('pr.until', {at: dateTime(s.ends_at)}) : t('pr.anytime');
}

function list(main, canEdit) {
  const status = h('p', {role: 'status', class: 'p-flash', tabindex: '-1'}, flash);
  flash = '';
  const filter = h('select', {id: 'p-filter'}, h('option', {value: ''}, t('pr.all')),
    STATUSES.map((s) => h('option', {value: s, selected: s === chosen}, t('pr.status.' + s))));
  const box = h('div');
  const usage = h('section', {class: 'card', hidden: true, tabindex: '-1', 'aria-labelledby': 'p-usage-title'});
  const load = () => {
    const body = h('tbody');
    const table = h('div', {class: 'p-scroll', hidden: true}, h('table', {class: 'p-table'}, h('caption', {class: 'sr-only'}, t('pr.list')),
      h('thead', {}, h('tr', {}, ['pr.name', 'pr.type', 'pr.status', 'pr.window', 'pr.version', 'pr.actions'].map((k) => h('th', {scope: 'col'}, t(k))))), body));
    const more = pager((cursor) => get(query('/api/v1/promotions', {status: chosen, cursor, limit: 50})), (items) => {
      body.append(...items.map((p) => row(p)));
      table.hidden = !body.rows.length;
      return document.createDocumentFragment();
    });
    mount(box, table, more);
  };
  filter.addEventListener('change', () => { chosen = filter.value; load(); });

  async function act(p, action, name) {
    try {
      await post(`/api/v1/promotions/${enc(p.id)}/${action}`);
      status.className = 'p-flash';
      status.textContent = t('pr.done.' + action, {name});
    } catch (e) {
      status.className = 'p-flash error';
      status.textContent = `${errorText(e)} ${e.message && !errorText(e).includes(e.message) ? e.message : ''}`;
    }
    load();
    status.focus();
  }

  function row(p) {
    const s = p.spec || {};
    const name = s.name || p.id;
    const eff = p.effective_status || p.status;
    const cell = h('td', {class: 'p-actions'});
    const buttons = () => mount(cell, (canEdit ? ACTIONS[p.status] || [] : []).map((a) => h('button', {type: 'button', class: a === 'end' ? 'p-danger' : null,
      'aria-label': `${t('pr.act.' + a)} ${name}`, onclick: () => (a === 'end' ? confirmEnd() : act(p, a, name))}, t('pr.act.' + a))),
    h('button', {type: 'button', 'aria-label': `${t('pr.act.usage')} ${name}`, onclick: () => showUsage(usage, p, name)}, t('pr.act.usage')),
    canEdit && s.codes ? h('button', {type: 'button', 'aria-label': `${t('px.act.codes')} ${name}`, onclick: () => showCodes(usage, p, name, canEdit)}, t('px.act.codes')) : null,
    s.group_buy ? h('button', {type: 'button', 'aria-label': `${t('px.act.teams')} ${name}`, onclick: () => showTeams(usage, p, name)}, t('px.act.teams')) : null);
    const confirmEnd = () => {
      const yes = h('button', {type: 'button', class: 'p-danger', onclick: () => act(p, 'end', name)}, t('pr.confirm'));
      const no = h('button', {type: 'button', onclick: () => { buttons(); cell.querySelector('button').focus(); }}, t('pr.cancel'));
      mount(cell, h('div', {role: 'group', 'aria-label': t('pr.act.end')}, h('p', {class: 'p-small'}, t('pr.confirm_end', {name})), yes, ' ', no));
      yes.focus();
    };
    buttons();
    return h('tr', {'data-id': p.id},
      h('td', {}, h('a', {href: '#/promotions/' + enc(p.id)}, name), h('div', {class: 'muted p-small'}, p.id)),
      h('td', {}, typeName(s.reward?.type), h('div', {class: 'muted p-small'}, summary(s.reward))),
      h('td', {}, badge(statusName(eff), KIND[eff]), eff !== p.status ? h('div', {class: 'muted p-small'}, t('pr.stored', {status: statusName(p.status)})) : null),
      h('td', {}, windowText(s)), h('td', {}, number(p.version)), cell);
  }

  mount(main, h('div', {class: 'p-head'}, h('h1', {}, t('nav.promotions')),
    canEdit ? h('a', {class: 'p-button primary', href: '#/promotions/new'}, t('pr.new')) : null),
  h('div', {class: 'toolbar'}, field(t('pr.filter'), filter)), status, box, usage);
  load();
}

/** Every limit of the promotion with what is used of it, by period and subject. */
async function showUsage(box, p, name) {
  box.hidden = false;
  const close = h('button', {type: 'button', class: 'link', onclick: () => { box.hidden = true; }}, t('pr.close'));
  const body = h('div', {'aria-busy': 'true'}, h('p', {class: 'muted'}, t('common.loading')));
  mount(box, h('div', {class: 'p-head'}, h('h2', {id: 'p-usage-title'}, t('pr.usage', {name})), close), body);
  box.focus();
  let u;
  try {
    u = await get(`/api/v1/promotions/${enc(p.id)}/usage`);
  } catch (e) {
    return mount(body, h('p', {class: 'error', role: 'alert'}, errorText(e)));
  }
  body.removeAttribute('aria-busy');
  const limits = p.spec?.limits || [];
  const amount = (v, cur) => (cur ? money(v, cur) : number(v));
  const describe = (l, i) => `#${i + 1} ${t('lim.counter.' + l.counter)} · ${t('lim.period.' + (l.period || 'total'))} · ${t('lim.scope.' + (l.scope || 'promotion'))}`;
  const rows = [];
  limits.forEach((l, i) => {
    const items = u.items.filter((x) => x.limit_index === i);
    const cur = l.counter === 'discount' ? shopInfo().currency : null;
    if (!items.length) rows.push([describe(l, i), '—', '—', amount(0, cur), amount(l.limit, cur)]);
    for (const x of items) rows.push([describe(l, i), x.period || '—', x.subject === '*' ? t('pr.everyone') : x.subject || '—', amount(x.used, x.currency), x.max == null ? '—' : amount(x.max, x.currency)]);
  });
  for (const x of u.items.filter((x) => x.limit_index == null)) {
    rows.push([t('pr.counts.' + x.counts), x.period || '—', x.subject === '*' ? t('pr.everyone') : x.subject || '—', number(x.used), x.max == null ? '—' : number(x.max)]);
  }
  if (!rows.length) return mount(body, h('p', {class: 'muted'}, t('pr.no_limits')));
  // a flash sale's stock: a units limit over the whole promotion
  const stock = limits.map((l, i) => [l, i]).filter(([l]) => l.counter === 'units' && (l.scope || 'promotion') === 'promotion' && (l.period || 'total') === 'total')
    .map(([l, i]) => {
      const sold = Number(u.items.find((x) => x.limit_index === i)?.used || 0);
      const max = Number(l.limit);
      return h('div', {class: 'p-stock'}, h('p', {}, t('pr.stock', {sold: number(sold), left: number(Math.max(max - sold, 0)), max: number(max)})),
        h('progress', {max, value: Math.min(sold, max), 'aria-label': t('pr.stock_bar')}));
    });
  mount(body, stock, h('div', {class: 'p-scroll'}, h('table', {}, h('thead', {}, h('tr', {}, ['pr.limit', 'pr.period_key', 'pr.subject', 'pr.used', 'pr.max'].map((k) => h('th', {scope: 'col'}, t(k))))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))))));
}
