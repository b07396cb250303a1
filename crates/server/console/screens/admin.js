// Admin: console users (create, role, disable, reset password, end
// sessions), API keys (create: the secret is shown once; revoke) and the
// audit log (filter by target, paging). Admins only: the server refuses
// anyone else, the nav only hides it.

import {api, get, post, query} from '../api.js';
import {h, mount, field, fieldError} from '../dom.js';
import {t, errorText, register} from '../i18n.js';
import {dateTime} from '../format.js';
import {table, pager, loadInto, badge, jsonText, facts} from '../widgets.js';

register({
  'zh-CN': {
    'admin.title': '系统管理', 'admin.users': '控制台用户', 'admin.keys': 'API 密钥', 'admin.audit': '审计日志',
    'admin.email': '邮箱', 'admin.name': '姓名', 'admin.role': '角色', 'admin.password': '初始密码',
    'admin.locale': '语言', 'admin.locale_browser': '跟随浏览器', 'admin.create_user': '添加用户',
    'admin.status': '状态', 'admin.active': '正常', 'admin.disabled': '已停用', 'admin.actions': '操作',
    'admin.disable': '停用', 'admin.enable': '启用', 'admin.reset': '重置密码', 'admin.end_sessions': '强制下线',
    'admin.new_password': '新密码（至少 10 个字符）', 'admin.done': '已完成', 'admin.sessions_ended': '已结束 {n} 个登录',
    'admin.key_name': '名称', 'admin.key_kind': '类型', 'admin.secret': '后台密钥', 'admin.write': '写入密钥',
    'admin.source': '来源', 'admin.client': '客户端（网页、App）', 'admin.server': '服务端（商城后台）',
    'admin.create_key': '创建密钥', 'admin.key_once': '请立即复制保存，此密钥只显示这一次：', 'admin.prefix': '前缀',
    'admin.created': '创建时间', 'admin.revoked': '已吊销', 'admin.revoke': '吊销', 'admin.confirm_revoke': '确定吊销密钥 {name}？使用它的系统将立即无法访问。',
    'admin.target': '对象（如 promotion:mj）', 'admin.filter': '筛选', 'admin.at': '时间', 'admin.actor': '操作人',
    'admin.action': '动作', 'admin.change': '变更', 'admin.settings': '系统设置',
    'admin.settings_hint': '设置来自 beacon.toml 和 BEACON__分区__键 环境变量，修改后重启生效。密钥不在此显示。',
    'admin.s.currency': '店铺币种', 'admin.s.offset': '店铺时区（UTC 偏移）', 'admin.s.store': '存储', 'admin.s.embedded': '内置 SQLite（{dir}）',
    'admin.s.postgres': 'PostgreSQL（{url}）', 'admin.s.bus': '消息总线', 'admin.s.no_bus': '无（单机）', 'admin.s.role': '进程角色',
    'admin.s.session': '登录有效期', 'admin.s.session_value': '最长 {h} 小时，闲置 {m} 分钟后退出', 'admin.s.login_limit': '每分钟登录失败上限',
    'admin.s.pii_roles': '可看完整个人信息的角色', 'admin.s.audit_pii': '审计个人信息查看', 'admin.s.yes': '是', 'admin.s.no': '否',
    'admin.s.rates': '限流（每秒请求，0 为不限）', 'admin.s.rates_value': '后台密钥 {admin}，写入密钥 {ingest}', 'admin.s.all': '全部设置（JSON）',
  },
  en: {
    'admin.title': 'Admin', 'admin.users': 'Console users', 'admin.keys': 'API keys', 'admin.audit': 'Audit log',
    'admin.email': 'Email', 'admin.name': 'Name', 'admin.role': 'Role', 'admin.password': 'First password',
    'admin.locale': 'Language', 'admin.locale_browser': "The browser's", 'admin.create_user': 'Add user',
    'admin.status': 'Status', 'admin.active': 'Active', 'admin.disabled': 'Disabled', 'admin.actions': 'Actions',
    'admin.disable': 'Disable', 'admin.enable': 'Enable', 'admin.reset': 'Reset password', 'admin.end_sessions': 'Log out everywhere',
    'admin.new_password': 'New password (10+ characters)', 'admin.done': 'Done', 'admin.sessions_ended': '{n} sessions ended',
    'admin.key_name': 'Name', 'admin.key_kind': 'Kind', 'admin.secret': 'Secret key', 'admin.write': 'Write key',
    'admin.source': 'Source', 'admin.client': 'Client (pages, apps)', 'admin.server': "Server (the shop's back end)",
    'admin.create_key': 'Create key', 'admin.key_once': 'Copy it now: this key is shown only once:', 'admin.prefix': 'Prefix',
    'admin.created': 'Created', 'admin.revoked': 'Revoked', 'admin.revoke': 'Revoke', 'admin.confirm_revoke': 'Revoke key {name}? Systems using it lose access at once.',
    'admin.target': 'Target (e.g. promotion:mj)', 'admin.filter': 'Filter', 'admin.at': 'Time', 'admin.actor': 'Actor',
    'admin.action': 'Action', 'admin.change': 'Change', 'admin.settings': 'Settings',
    'admin.settings_hint': 'Settings come from beacon.toml and BEACON__SECTION__KEY variables; a change takes effect on restart. Secrets are not shown.',
    'admin.s.currency': 'Shop currency', 'admin.s.offset': 'Shop time zone (UTC offset)', 'admin.s.store': 'Store', 'admin.s.embedded': 'Embedded SQLite ({dir})',
    'admin.s.postgres': 'PostgreSQL ({url})', 'admin.s.bus': 'Bus', 'admin.s.no_bus': 'None (one process)', 'admin.s.role': 'Process role',
    'admin.s.session': 'Console sessions', 'admin.s.session_value': 'at most {h} hours, ended after {m} idle minutes', 'admin.s.login_limit': 'Failed logins allowed a minute',
    'admin.s.pii_roles': 'Roles that see personal data in full', 'admin.s.audit_pii': 'Audit reads of personal data', 'admin.s.yes': 'yes', 'admin.s.no': 'no',
    'admin.s.rates': 'Rate limits (requests a second, 0: none)', 'admin.s.rates_value': 'secret keys {admin}, write keys {ingest}', 'admin.s.all': 'Every setting (JSON)',
  },
});

const ROLES = ['admin', 'marketer', 'analyst', 'viewer'];
const select = (options, value) => h('select', {}, options.map(([v, label]) => h('option', {value: v, selected: v === value}, label)));

export function render(main) {
  const users = h('div');
  const keys = h('div');
  const audit = h('div');
  const settings = h('div');
  mount(main, h('h1', {}, t('admin.title')),
    h('section', {class: 'card', 'aria-labelledby': 'a-users'}, h('h2', {id: 'a-users'}, t('admin.users')), users),
    h('section', {class: 'card', 'aria-labelledby': 'a-keys'}, h('h2', {id: 'a-keys'}, t('admin.keys')), keys),
    h('section', {class: 'card', 'aria-labelledby': 'a-audit'}, h('h2', {id: 'a-audit'}, t('admin.audit')), audit),
    h('section', {class: 'card', 'aria-labelledby': 'a-settings'}, h('h2', {id: 'a-settings'}, t('admin.settings')), settings));
  showSettings(settings);
  showUsers(users);
  showKeys(keys);
  showAudit(audit);
}

function showUsers(box) {
  loadInto(box, async () => {
    const {items} = await get('/api/v1/users');
    const status = h('p', {role: 'status'});
    const act = (fn) => async () => {
      status.textContent = '';
      try { await fn(); showUsers(box); } catch (e) { status.textContent = errorText(e); }
    };
    const rows = table([
      [t('admin.email'), (u) => u.email],
      [t('admin.name'), (u) => u.name],
      [t('admin.role'), (u) => {
        const s = select(ROLES.map((r) => [r, t('role.' + r)]), u.role);
        s.setAttribute('aria-label', `${t('admin.role')} ${u.email}`);
        s.addEventListener('change', act(() => api('PATCH', `/api/v1/users/${u.id}`, {role: s.value})));
        return s;
      }],
      [t('admin.status'), (u) => (u.disabled_at ? badge(t('admin.disabled'), 'bad') : badge(t('admin.active'), 'ok'))],
      [t('admin.actions'), (u) => h('div', {class: 'actions'},
        h('button', {type: 'button', onclick: act(() => api('PATCH', `/api/v1/users/${u.id}`, {disabled: !u.disabled_at}))},
          u.disabled_at ? t('admin.enable') : t('admin.disable')),
        h('button', {type: 'button', onclick: act(async () => {
          const password = prompt(t('admin.new_password'));
          if (password) await post(`/api/v1/users/${u.id}/password`, {password});
        })}, t('admin.reset')),
        h('button', {type: 'button', onclick: act(async () => {
          const r = await api('DELETE', `/api/v1/users/${u.id}/sessions`);
          alert(t('admin.sessions_ended', {n: r.sessions_ended}));
        })}, t('admin.end_sessions')))],
    ], items, t('admin.users'));
    return [rows, status, newUser(() => showUsers(box))];
  });
}

function newUser(done) {
  const email = h('input', {type: 'email', required: true, autocomplete: 'off'});
  const name = h('input', {type: 'text'});
  const role = select(ROLES.map((r) => [r, t('role.' + r)]), 'viewer');
  const password = h('input', {type: 'password', required: true, minlength: 10, autocomplete: 'new-password'});
  const locale = select([['', t('admin.locale_browser')], ['zh-CN', '中文'], ['en', 'English']], '');
  const form = h('form', {class: 'toolbar', novalidate: true},
    field(t('admin.email'), email), field(t('admin.name'), name), field(t('admin.role'), role),
    field(t('admin.password'), password), field(t('admin.locale'), locale),
    h('button', {type: 'submit', class: 'primary'}, t('admin.create_user')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    [email, password].forEach((c) => fieldError(c, ''));
    try {
      await post('/api/v1/users', {email: email.value, name: name.value || null, role: role.value,
        password: password.value, locale: locale.value || null});
      done();
    } catch (err) {
      fieldError(/password/i.test(err.message) ? password : email, errorText(err));
    }
  });
  return form;
}

function showKeys(box, created) {
  loadInto(box, async () => {
    const {items} = await get('/api/v1/keys');
    const shown = h('div', {role: 'status'});
    const rows = table([
      [t('admin.key_name'), (k) => k.name],
      [t('admin.key_kind'), (k) => (k.kind === 'secret' ? `${t('admin.secret')} · ${t('role.' + k.role)}` : `${t('admin.write')} · ${t('admin.' + k.source)}`)],
      [t('admin.prefix'), (k) => h('code', {}, k.prefix + '…')],
      [t('admin.created'), (k) => dateTime(k.created_at)],
      [t('admin.status'), (k) => (k.revoked_at ? badge(t('admin.revoked'), 'bad') : badge(t('admin.active'), 'ok'))],
      [t('admin.actions'), (k) => (k.revoked_at ? '' : h('button', {type: 'button', onclick: async () => {
        if (!confirm(t('admin.confirm_revoke', {name: k.name}))) return;
        try { await api('DELETE', `/api/v1/keys/${k.id}`); showKeys(box); } catch (e) { shown.textContent = errorText(e); }
      }}, t('admin.revoke')))],
    ], items, t('admin.keys'));
    const name = h('input', {type: 'text', required: true});
    const kind = select([['secret', t('admin.secret')], ['write', t('admin.write')]], 'secret');
    const role = select(ROLES.map((r) => [r, t('role.' + r)]), 'viewer');
    const source = select([['client', t('admin.client')], ['server', t('admin.server')]], 'client');
    const form = h('form', {class: 'toolbar', novalidate: true}, field(t('admin.key_name'), name), field(t('admin.key_kind'), kind),
      field(t('admin.role'), role), field(t('admin.source'), source), h('button', {type: 'submit', class: 'primary'}, t('admin.create_key')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      fieldError(name, '');
      const body = kind.value === 'secret' ? {name: name.value, kind: 'secret', role: role.value} : {name: name.value, kind: 'write', source: source.value};
      try {
        showKeys(box, await post('/api/v1/keys', body));
      } catch (err) {
        fieldError(name, errorText(err));
      }
    });
    const secret = created && h('p', {class: 'card secret', role: 'alert'}, t('admin.key_once'), ' ', h('code', {}, created.key));
    return [secret, rows, shown, form];
  });
}

function showAudit(box) {
  const target = h('input', {type: 'text'});
  const list = h('div');
  const form = h('form', {class: 'toolbar'}, field(t('admin.target'), target), h('button', {type: 'submit'}, t('admin.filter')));
  const load = () => mount(list, pager((cursor) => get(query('/api/v1/audit', {cursor, target: target.value.trim(), limit: 20})),
    (items) => table([
      [t('admin.at'), (e) => dateTime(e.at)],
      [t('admin.actor'), (e) => e.actor],
      [t('admin.action'), (e) => e.action],
      [t('admin.target').split(/[（(]/)[0], (e) => e.target],
      [t('admin.change'), (e) => h('details', {}, h('summary', {}, '…'), h('pre', {class: 'json'}, jsonText({before: e.before, after: e.after})))],
    ], items)));
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  mount(box, form, list);
  load();
}

/** The settings in force, read-only (GET /api/v1/settings: secrets left out). */
function showSettings(box) {
  loadInto(box, async () => {
    const s = await get('/api/v1/settings');
    const yes = (b) => t(b ? 'admin.s.yes' : 'admin.s.no');
    const store = s.storage.database_url ? t('admin.s.postgres', {url: s.storage.database_url}) : t('admin.s.embedded', {dir: s.storage.data_dir});
    return [h('p', {class: 'muted'}, t('admin.settings_hint')), facts([
      [t('admin.s.currency'), s.shop.currency],
      [t('admin.s.offset'), s.shop.utc_offset],
      [t('admin.s.store'), store],
      [t('admin.s.bus'), s.bus.nats_url || t('admin.s.no_bus')],
      [t('admin.s.role'), s.server.role],
      [t('admin.s.session'), t('admin.s.session_value', {h: s.security.session_hours, m: s.security.session_idle_minutes})],
      [t('admin.s.login_limit'), String(s.security.login_attempts_per_minute)],
      [t('admin.s.rates'), t('admin.s.rates_value', {admin: s.security.admin_rate_per_second, ingest: s.security.ingest_rate_per_second})],
      [t('admin.s.pii_roles'), (s.security.pii_full_roles || []).map((r) => t('role.' + r)).join('、')],
      [t('admin.s.audit_pii'), yes(s.security.audit_pii_reads)],
    ]), h('details', {}, h('summary', {}, t('admin.s.all')), h('pre', {class: 'p-json'}, JSON.stringify(s, null, 2)))];
  });
}
