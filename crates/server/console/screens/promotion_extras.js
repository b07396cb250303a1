// The panels a promotion's row opens besides its usage: the unique codes of
// a coupon template (generate bearer codes, list them, export them as CSV:
// GET/POST /api/v1/promotions/{id}/coupons) and a group-buy's teams (open,
// complete, failed: GET /api/v1/promotions/{id}/teams).

import {get, post, query} from '../api.js';
import {h, mount, field, fieldError} from '../dom.js';
import {t, errorText, register} from '../i18n.js';
import {number, dateTime} from '../format.js';
import {table, badge, loadInto} from '../widgets.js';

register({
  'zh-CN': {
    'px.codes': '券码：{name}', 'px.teams': '拼团：{name}', 'px.act.codes': '券码', 'px.act.teams': '拼团',
    'px.generate': '生成券码', 'px.count': '生成数量（不指定客户的通用券码）', 'px.generated': '已生成 {n} 个券码。', 'px.exported': '已导出 {n} 个券码。',
    'px.export': '导出全部券码（CSV）', 'px.exporting': '正在导出… {n}', 'px.code': '券码', 'px.holder': '持有人',
    'px.status': '状态', 'px.channel': '来源', 'px.issued': '发放时间', 'px.valid': '有效期至', 'px.nobody': '未指定',
    'px.more': '加载更多', 'px.st.available': '可用', 'px.st.used': '已使用', 'px.st.expired': '已过期',
    'px.team.open': '拼团中', 'px.team.complete': '已成团', 'px.team.failed': '未成团', 'px.team': '团',
    'px.members': '人数', 'px.left': '还差', 'px.opened': '开团时间', 'px.expires': '截止时间', 'px.none': '暂无',
    'px.pattern': '券码格式 {pattern}，每人最多 {per} 张{quantity}', 'px.quantity': '，共 {n} 张',
  },
  en: {
    'px.codes': 'Codes: {name}', 'px.teams': 'Teams: {name}', 'px.act.codes': 'Codes', 'px.act.teams': 'Teams',
    'px.generate': 'Generate codes', 'px.count': 'How many (bearer codes, for no one in particular)', 'px.generated': '{n} codes generated.', 'px.exported': '{n} codes exported.',
    'px.export': 'Export every code (CSV)', 'px.exporting': 'Exporting… {n}', 'px.code': 'Code', 'px.holder': 'Holder',
    'px.status': 'Status', 'px.channel': 'Channel', 'px.issued': 'Issued', 'px.valid': 'Valid until', 'px.nobody': 'Bearer',
    'px.more': 'Load more', 'px.st.available': 'Available', 'px.st.used': 'Used', 'px.st.expired': 'Expired',
    'px.team.open': 'Open', 'px.team.complete': 'Complete', 'px.team.failed': 'Failed', 'px.team': 'Team',
    'px.members': 'Members', 'px.left': 'Places left', 'px.opened': 'Opened', 'px.expires': 'Closes', 'px.none': 'None',
    'px.pattern': 'Codes like {pattern}, at most {per} per customer{quantity}', 'px.quantity': ', {n} in all',
  },
});

const enc = encodeURIComponent;
const PAGE = 200;

function panel(box, title) {
  box.hidden = false;
  const close = h('button', {type: 'button', class: 'link', onclick: () => { box.hidden = true; }}, t('pr.close'));
  const body = h('div');
  mount(box, h('div', {class: 'p-head'}, h('h2', {id: 'p-usage-title'}, title), close), body);
  box.focus();
  return body;
}

const codeColumns = [
  [t('px.code'), (c) => h('code', {}, c.code)],
  [t('px.holder'), (c) => (c.profile_id ? h('a', {href: '#/customers/' + enc(c.profile_id)}, c.profile_id.slice(0, 8)) : t('px.nobody'))],
  [t('px.status'), (c) => badge(t('px.st.' + c.status), c.status === 'available' ? 'ok' : null)],
  [t('px.channel'), (c) => c.channel],
  [t('px.issued'), (c) => dateTime(c.issued_at)],
  [t('px.valid'), (c) => (c.valid_until ? dateTime(c.valid_until) : '—')],
];

/** A coupon template's codes: generate, page through, export. */
export function showCodes(box, p, name, canEdit) {
  const body = panel(box, t('px.codes', {name}));
  const codes = p.spec.codes;
  const rules = h('p', {class: 'muted'}, t('px.pattern', {pattern: codes.pattern || '—', per: codes.per_profile ?? 1,
    quantity: codes.quantity ? t('px.quantity', {n: number(codes.quantity)}) : ''}));
  const list = h('div', {class: 'p-scroll'});
  const status = h('p', {role: 'status'});
  let cursor = null;
  const rows = [];
  const more = h('button', {type: 'button'}, t('px.more'));
  const page = async (reset) => {
    if (reset) { cursor = null; rows.length = 0; }
    try {
      const r = await get(query(`/api/v1/promotions/${enc(p.id)}/coupons`, {cursor, limit: 50}));
      rows.push(...r.items);
      cursor = r.next_cursor;
      mount(list, rows.length ? table(codeColumns, rows, t('px.codes', {name})) : h('p', {class: 'muted'}, t('px.none')));
      more.hidden = !cursor;
    } catch (e) {
      mount(list, h('p', {class: 'error', role: 'alert'}, errorText(e)));
    }
  };
  more.addEventListener('click', () => page(false));
  const count = h('input', {type: 'number', min: 1, max: 1000, value: 10, inputmode: 'numeric'});
  const generate = h('form', {class: 'toolbar', novalidate: true}, field(t('px.count'), count),
    h('button', {type: 'submit', class: 'primary'}, t('px.generate')));
  generate.addEventListener('submit', async (e) => {
    e.preventDefault();
    fieldError(count, '');
    try {
      const r = await post(`/api/v1/promotions/${enc(p.id)}/coupons`, {count: Number(count.value)});
      status.textContent = t('px.generated', {n: r.issued.length});
      page(true);
    } catch (err) {
      fieldError(count, errorText(err) + (err.message && err.code === 'invalid_parameter' ? '' : ` ${err.message || ''}`));
    }
  });
  const exporter = h('button', {type: 'button'}, t('px.export'));
  exporter.addEventListener('click', () => exportCodes(p, exporter, status));
  mount(body, rules, canEdit ? generate : null, h('div', {class: 'toolbar'}, exporter), status, list, more);
  page(true);
}

/** Every code, page by page, as a CSV file the browser downloads. */
async function exportCodes(p, button, status) {
  button.disabled = true;
  const cell = (v) => {
    const s = v == null ? '' : String(v);
    const safe = /^[=+\-@\t\r]/.test(s) ? "'" + s : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = ['code,status,profile_id,channel,issued_at,valid_from,valid_until'];
  let cursor = null;
  try {
    do {
      const r = await get(query(`/api/v1/promotions/${enc(p.id)}/coupons`, {cursor, limit: PAGE}));
      for (const c of r.items) lines.push([c.code, c.status, c.profile_id, c.channel, c.issued_at, c.valid_from, c.valid_until].map(cell).join(','));
      status.textContent = t('px.exporting', {n: number(lines.length - 1)});
      cursor = r.next_cursor;
    } while (cursor);
  } catch (e) {
    status.textContent = errorText(e);
    button.disabled = false;
    return;
  }
  const blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], {type: 'text/csv;charset=utf-8'});
  const a = h('a', {href: URL.createObjectURL(blob), download: `${p.id}-codes.csv`});
  document.body.append(a);
  a.click();
  a.remove();
  status.textContent = t('px.exported', {n: number(lines.length - 1)});
  button.disabled = false;
}

/** A group-buy's teams by status. */
export function showTeams(box, p, name) {
  const body = panel(box, t('px.teams', {name}));
  const sections = ['open', 'complete', 'failed'].map((status) => {
    const part = h('section', {'aria-label': t('px.team.' + status)});
    loadInto(part, async () => {
      const r = await get(query(`/api/v1/promotions/${enc(p.id)}/teams`, {status, limit: 100}));
      return [h('h3', {}, t('px.team.' + status), ` (${number(r.items.length)})`), r.items.length ? table([
        [t('px.team'), (x) => h('code', {}, x.id)],
        [t('px.members'), (x) => `${number(x.member_count)} / ${number(x.min_members)}`],
        [t('px.left'), (x) => number(x.places_left)],
        [t('px.opened'), (x) => dateTime(x.opened_at)],
        [t(status === 'open' ? 'px.expires' : 'px.status'), (x) => (status === 'open' ? dateTime(x.expires_at) : dateTime(x.completed_at || x.expires_at))],
      ], r.items, t('px.team.' + status)) : h('p', {class: 'muted'}, t('px.none'))];
    });
    return part;
  });
  mount(body, sections);
}
