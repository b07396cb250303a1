// Points and tiers (会员积分): the points program as it reads (earning,
// redeeming, vesting, expiry, tiers), edited as its JSON spec with the
// API's own checks (PUT /api/v1/loyalty/program, if_version), and the
// leaderboard of points earned in a day, week, month or in all.

import {api, get, query} from '../api.js';
import {h, mount, field, fieldError} from '../dom.js';
import {t, errorText, register} from '../i18n.js';
import {number, money, dateTime} from '../format.js';
import {table, badge, facts, loadInto} from '../widgets.js';

register({
  'zh-CN': {
    'ly.title': '会员积分', 'ly.program': '积分规则', 'ly.none': '还没有积分规则。', 'ly.status': '状态',
    'ly.status.active': '生效中', 'ly.status.paused': '已暂停', 'ly.earn': '获得积分', 'ly.earn.order': '订单每满 {per} 得 {points} 分',
    'ly.earn.event': '每次「{event}」得 {points} 分{cap}', 'ly.cap': '（每天最多 {n} 次）', 'ly.redeem': '积分抵扣',
    'ly.redeem.rule': '{points} 分抵 {unit}，最多抵订单的 {share}%，至少 {min} 分', 'ly.no_redeem': '不可抵扣',
    'ly.vesting': '到账天数', 'ly.expiry': '有效期', 'ly.months': '到账后 {n} 个月', 'ly.never': '永久有效', 'ly.days': '{n} 天',
    'ly.tiers': '会员等级', 'ly.tier': '等级', 'ly.tier_min': '门槛', 'ly.basis.points': '按近 {n} 个月获得的积分',
    'ly.basis.spend': '按近 {n} 个月的消费金额', 'ly.version': '版本 {v}，{at} 更新', 'ly.edit': '编辑规则（JSON）',
    'ly.spec': '积分规则（JSON）', 'ly.save': '保存规则', 'ly.saved': '积分规则已保存（版本 {v}）。', 'ly.bad_json': '不是有效的 JSON：{message}',
    'ly.board': '积分排行榜', 'ly.period': '周期', 'ly.period.day': '今天', 'ly.period.week': '本周', 'ly.period.month': '本月',
    'ly.period.total': '累计', 'ly.rank': '名次', 'ly.customer': '客户', 'ly.points': '积分', 'ly.range': '{from} 至 {to}',
  },
  en: {
    'ly.title': 'Points and tiers', 'ly.program': 'Points program', 'ly.none': 'No points program yet.', 'ly.status': 'Status',
    'ly.status.active': 'Active', 'ly.status.paused': 'Paused', 'ly.earn': 'Earning', 'ly.earn.order': '{points} points for every {per} of an order',
    'ly.earn.event': '{points} points for each “{event}”{cap}', 'ly.cap': ' (at most {n} a day)', 'ly.redeem': 'Redeeming',
    'ly.redeem.rule': '{points} points pay {unit}, up to {share}% of an order, at least {min} points', 'ly.no_redeem': 'Not redeemable',
    'ly.vesting': 'Usable after', 'ly.expiry': 'Expiry', 'ly.months': '{n} months after they are usable', 'ly.never': 'Never', 'ly.days': '{n} days',
    'ly.tiers': 'Tiers', 'ly.tier': 'Tier', 'ly.tier_min': 'From', 'ly.basis.points': 'by points earned in the last {n} months',
    'ly.basis.spend': 'by spend in the last {n} months', 'ly.version': 'Version {v}, updated {at}', 'ly.edit': 'Edit the rules (JSON)',
    'ly.spec': 'Program (JSON)', 'ly.save': 'Save the program', 'ly.saved': 'Program saved (version {v}).', 'ly.bad_json': 'Not valid JSON: {message}',
    'ly.board': 'Leaderboard', 'ly.period': 'Period', 'ly.period.day': 'Today', 'ly.period.week': 'This week', 'ly.period.month': 'This month',
    'ly.period.total': 'All time', 'ly.rank': 'Rank', 'ly.customer': 'Customer', 'ly.points': 'Points', 'ly.range': '{from} to {to}',
  },
});

const PERIODS = ['day', 'week', 'month', 'total'];

export function render(main, {session}) {
  const canEdit = ['admin', 'marketer'].includes(session.role);
  const program = h('section', {class: 'card', 'aria-labelledby': 'ly-program'});
  const board = h('section', {class: 'card', 'aria-labelledby': 'ly-board'});
  mount(main, h('h1', {}, t('ly.title')), program, board);
  showProgram(program, canEdit);
  showBoard(board);
}

function earnText(e) {
  if (e.on === 'order') return t('ly.earn.order', {per: money(e.per), points: number(e.points)});
  const cap = e.max_per_day ? t('ly.cap', {n: number(e.max_per_day)}) : '';
  return t('ly.earn.event', {event: e.event, points: number(e.points), cap});
}

function showProgram(box, canEdit, flash = '') {
  const title = h('h2', {id: 'ly-program'}, t('ly.program'));
  loadInto(box, async () => {
    let p = null;
    try {
      p = await get('/api/v1/loyalty/program');
    } catch (e) {
      if (e.code !== 'not_found') throw e;
    }
    const s = p?.spec || {};
    const summary = p ? [
      h('p', {class: 'muted'}, t('ly.version', {v: number(p.version), at: dateTime(p.updated_at)})),
      facts([
        [t('ly.status'), badge(t('ly.status.' + (s.status || 'active')), s.status === 'paused' ? null : 'ok')],
        [t('ly.earn'), h('ul', {}, (s.earn || []).map((e) => h('li', {}, earnText(e))))],
        [t('ly.redeem'), s.redeem ? t('ly.redeem.rule', {points: number(s.redeem.points_per_unit), unit: money(1),
          share: s.redeem.max_share, min: number(s.redeem.min_points || 0)}) : t('ly.no_redeem')],
        [t('ly.vesting'), t('ly.days', {n: number(s.vesting_days || 0)})],
        [t('ly.expiry'), s.expiry_months ? t('ly.months', {n: s.expiry_months}) : t('ly.never')],
      ]),
      (s.tiers || []).length ? [h('h3', {}, t('ly.tiers'), ' ', h('span', {class: 'muted p-small'},
        t('ly.basis.' + (s.tier_basis || 'points'), {n: s.tier_window_months || 12}))),
      table([[t('ly.tier'), (x) => x.name], [t('ly.tier_min'), (x) => (s.tier_basis === 'spend' ? money(x.min) : number(x.min))]],
        s.tiers, t('ly.tiers'))] : null,
    ] : h('p', {class: 'muted'}, t('ly.none'));
    return [title, summary, canEdit ? editor(box, p, canEdit, flash) : null];
  });
}

/** The spec as JSON, saved through the API (its errors beside the field). */
function editor(box, p, canEdit, flash) {
  const text = h('textarea', {rows: 14, spellcheck: 'false', class: 'p-json'}, JSON.stringify(p?.spec || {status: 'active', earn: [{on: 'order', per: '1', points: 1}]}, null, 2));
  const save = h('button', {type: 'submit', class: 'primary'}, t('ly.save'));
  const status = h('p', {role: 'status'}, flash);
  const form = h('form', {novalidate: true}, field(t('ly.spec'), text), status, save);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fieldError(text, '');
    let spec;
    try {
      spec = JSON.parse(text.value);
    } catch (err) {
      return fieldError(text, t('ly.bad_json', {message: err.message}));
    }
    try {
      const saved = await api('PUT', query('/api/v1/loyalty/program', {if_version: p?.version}), spec);
      showProgram(box, canEdit, t('ly.saved', {v: saved.version}));
    } catch (err) {
      const detail = err.message && !errorText(err).includes(err.message) ? ` ${err.message}` : '';
      fieldError(text, errorText(err) + detail);
    }
  });
  return h('details', {open: Boolean(flash)}, h('summary', {}, t('ly.edit')), form);
}

function showBoard(box) {
  const period = h('select', {}, PERIODS.map((p) => h('option', {value: p}, t('ly.period.' + p))));
  const list = h('div');
  const load = () => loadInto(list, async () => {
    const r = await get(query('/api/v1/loyalty/leaderboard', {period: period.value, limit: 20}));
    return [r.from ? h('p', {class: 'muted'}, t('ly.range', {from: dateTime(r.from), to: dateTime(r.to)})) : null,
      r.items.length ? table([
        [t('ly.rank'), (x) => number(x.rank)],
        [t('ly.customer'), (x) => h('a', {href: '#/customers/' + encodeURIComponent(x.profile_id)}, x.profile_id.slice(0, 8))],
        [t('ly.points'), (x) => number(x.points)],
      ], r.items, t('ly.board')) : h('p', {class: 'muted'}, t('w.empty'))];
  });
  period.addEventListener('change', load);
  mount(box, h('h2', {id: 'ly-board'}, t('ly.board')), h('div', {class: 'toolbar'}, field(t('ly.period'), period)), list);
  load();
}
