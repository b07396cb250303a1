// Every word the console shows, in Simplified Chinese and English. The
// language comes from the user's choice (kept in this browser), else the
// user's profile, else the browser's; it can be switched at any time.

const zh = {
  'app.name': 'Beacon 营销平台',
  'nav.dashboard': '经营概览', 'nav.customers': '客户', 'nav.products': '商品', 'nav.orders': '订单', 'nav.segments': '人群', 'nav.insights': '客户价值', 'nav.promotions': '促销活动', 'nav.simulator': '购物车模拟', 'nav.loyalty': '会员积分', 'nav.import': '导入数据', 'nav.admin': '系统管理', 'nav.account': '我的账号', 'nav.logout': '退出登录',
  'nav.main': '主导航', 'nav.skip': '跳到正文',
  'lang.switch': 'English', 'lang.label': '切换到英文',
  'login.title': '登录', 'login.email': '邮箱', 'login.password': '密码', 'login.submit': '登录',
  'login.busy': '正在登录…', 'login.intro': '用管理员给你的邮箱和密码登录。',
  'common.loading': '加载中…', 'common.retry': '重试', 'common.save': '保存', 'common.none': '暂无数据',
  'dash.title': '经营概览', 'dash.range': '时间范围', 'dash.days': '最近 {n} 天', 'dash.from': '开始日期',
  'dash.to': '结束日期', 'dash.apply': '查看', 'dash.orders': '订单数', 'dash.revenue': '净收入',
  'dash.aov': '客单价', 'dash.visitors': '访客数', 'dash.conversion': '转化率', 'dash.buyers': '下单客户', 'dash.vs': '较上一周期', 'dash.new': '上一周期无数据',
  'dash.daily': '每日访客、订单与收入', 'dash.other_currencies': '其他币种收入',
  'dash.tz': '按店铺时区 {tz} 统计', 'dash.chart_orders': '订单', 'dash.chart_revenue': '收入',
  'dash.table': '每日明细', 'dash.date': '日期',
  'account.title': '我的账号', 'account.role': '角色', 'account.email': '邮箱', 'account.password': '修改密码',
  'account.current': '当前密码', 'account.new': '新密码', 'account.confirm': '再次输入新密码',
  'account.mismatch': '两次输入的新密码不一致', 'account.changed': '密码已修改，其他设备上的登录已退出。',
  'account.hint': '至少 10 个字符',
  'role.admin': '管理员', 'role.marketer': '运营', 'role.analyst': '分析师', 'role.viewer': '只读',
  'stage.potential': '潜在客户', 'stage.new': '新客户', 'stage.growing': '成长客户', 'stage.mature': '成熟客户',
  'stage.at_risk': '流失风险', 'stage.churned': '已流失', 'stage.won_back': '已召回',
  'rfm.champions': '重要价值客户', 'rfm.loyal': '重要保持客户', 'rfm.potential': '重要发展客户', 'rfm.at_risk': '重要挽留客户',
  'rfm.promising': '一般价值客户', 'rfm.new': '一般发展客户', 'rfm.hibernating': '一般保持客户', 'rfm.lost': '一般挽留客户',
  'error.network': '无法连接服务器，请检查网络后重试。',
  'error.unknown': '出错了：{message}',
  'error.malformed_json': '请求格式不正确。', 'error.invalid_encoding': '请求内容无法解码。',
  'error.payload_too_large': '内容太大。', 'error.invalid_event': '事件格式不正确。',
  'error.missing_identity': '缺少用户标识。', 'error.invalid_identity': '手机号或邮箱格式不正确。',
  'error.invalid_order': '订单信息不正确。', 'error.invalid_cart': '购物车信息不正确。',
  'error.invalid_promotion': '促销设置不正确。', 'error.invalid_product': '商品信息不正确。',
  'error.invalid_file': '文件无法导入：{message}', 'error.invalid_segment': '人群条件不正确：{message}', 'error.invalid_timestamp': '时间格式不正确。', 'error.invalid_parameter': '参数不正确：{message}',
  'error.invalid_cursor': '翻页位置已失效，请刷新。', 'error.invalid_role': '角色不正确。',
  'error.missing_write_key': '缺少写入密钥。', 'error.invalid_write_key': '写入密钥无效。',
  'error.unauthenticated': '登录已过期，请重新登录。', 'error.forbidden': '你的角色没有这个权限。',
  'error.invalid_credentials': '邮箱或密码不正确。', 'error.csrf_token_invalid': '页面已过期，请刷新后重试。',
  'error.edge_anonymous_only': '边缘节点只能为匿名购物者计价。', 'error.not_found': '没有找到。',
  'error.route_not_found': '没有这个地址。', 'error.method_not_allowed': '不支持这个操作。',
  'error.unsupported_media_type': '不支持的内容类型。', 'error.conflict': '与现有数据冲突：{message}',
  'error.coupon_rejected': '优惠券不可用。', 'error.coupon_limit_reached': '优惠券已领完或已达领取上限。',
  'error.team_unavailable': '无法加入这个团。', 'error.price_changed': '价格有变化，请重新计价。',
  'error.idempotency_key_reused': '重复提交了不同的请求。', 'error.rate_limited': '操作太频繁，请稍后再试。',
  'error.request_timeout': '请求超时。', 'error.uri_too_long': '地址太长。',
  'error.unavailable': '服务器正在启动或维护，请稍后再试。', 'error.internal': '服务器内部错误。',
};

const en = {
  'app.name': 'Beacon Marketing',
  'nav.dashboard': 'Dashboard', 'nav.customers': 'Customers', 'nav.products': 'Products', 'nav.orders': 'Orders', 'nav.segments': 'Segments', 'nav.insights': 'Customer value', 'nav.promotions': 'Promotions', 'nav.simulator': 'Cart simulator', 'nav.loyalty': 'Points', 'nav.import': 'Import', 'nav.admin': 'Admin', 'nav.account': 'My account', 'nav.logout': 'Log out',
  'nav.main': 'Main navigation', 'nav.skip': 'Skip to content',
  'lang.switch': '中文', 'lang.label': 'Switch to Chinese',
  'login.title': 'Log in', 'login.email': 'Email', 'login.password': 'Password', 'login.submit': 'Log in',
  'login.busy': 'Logging in…', 'login.intro': 'Log in with the email and password your admin gave you.',
  'common.loading': 'Loading…', 'common.retry': 'Retry', 'common.save': 'Save', 'common.none': 'No data yet',
  'dash.title': 'Dashboard', 'dash.range': 'Range', 'dash.days': 'Last {n} days', 'dash.from': 'From',
  'dash.to': 'To', 'dash.apply': 'Show', 'dash.orders': 'Orders', 'dash.revenue': 'Net revenue',
  'dash.aov': 'Average order value', 'dash.visitors': 'Visitors', 'dash.conversion': 'Conversion rate', 'dash.buyers': 'Buyers', 'dash.vs': 'vs previous period',
  'dash.new': 'no data in the previous period',
  'dash.daily': 'Visitors, orders and revenue per day', 'dash.other_currencies': 'Revenue in other currencies',
  'dash.tz': 'Days in the shop time zone {tz}', 'dash.chart_orders': 'Orders', 'dash.chart_revenue': 'Revenue',
  'dash.table': 'Per day', 'dash.date': 'Date',
  'account.title': 'My account', 'account.role': 'Role', 'account.email': 'Email', 'account.password': 'Change password',
  'account.current': 'Current password', 'account.new': 'New password', 'account.confirm': 'New password again',
  'account.mismatch': 'The two new passwords differ', 'account.changed': 'Password changed; your other sessions were logged out.',
  'account.hint': 'At least 10 characters',
  'role.admin': 'Admin', 'role.marketer': 'Marketer', 'role.analyst': 'Analyst', 'role.viewer': 'Viewer',
  'stage.potential': 'Potential', 'stage.new': 'New', 'stage.growing': 'Growing', 'stage.mature': 'Mature',
  'stage.at_risk': 'At risk', 'stage.churned': 'Churned', 'stage.won_back': 'Won back',
  'rfm.champions': 'Champions', 'rfm.loyal': 'Loyal', 'rfm.potential': 'Potential', 'rfm.at_risk': 'At risk',
  'rfm.promising': 'Promising', 'rfm.new': 'New', 'rfm.hibernating': 'Hibernating', 'rfm.lost': 'Lost',
  'error.network': 'Cannot reach the server: check the network and try again.',
  'error.unknown': 'Something went wrong: {message}',
  'error.malformed_json': 'The request is malformed.', 'error.invalid_encoding': 'The request cannot be decoded.',
  'error.payload_too_large': 'Too large.', 'error.invalid_event': 'The event is invalid.',
  'error.missing_identity': 'A user id is missing.', 'error.invalid_identity': 'The phone number or email is invalid.',
  'error.invalid_order': 'The order is invalid.', 'error.invalid_cart': 'The cart is invalid.',
  'error.invalid_promotion': 'The promotion is invalid.', 'error.invalid_product': 'The product is invalid.',
  'error.invalid_file': 'The file cannot be imported: {message}', 'error.invalid_segment': 'The conditions do not read: {message}', 'error.invalid_timestamp': 'The time is not in a valid format.', 'error.invalid_parameter': 'Invalid input: {message}',
  'error.invalid_cursor': 'The page position expired: reload.', 'error.invalid_role': 'The role is invalid.',
  'error.missing_write_key': 'A write key is missing.', 'error.invalid_write_key': 'The write key is invalid.',
  'error.unauthenticated': 'Your session ended: log in again.', 'error.forbidden': 'Your role may not do this.',
  'error.invalid_credentials': 'The email or the password is wrong.', 'error.csrf_token_invalid': 'The page is out of date: reload and try again.',
  'error.edge_anonymous_only': 'An edge node prices anonymous carts only.', 'error.not_found': 'Not found.',
  'error.route_not_found': 'No such address.', 'error.method_not_allowed': 'Not supported.',
  'error.unsupported_media_type': 'Unsupported content type.', 'error.conflict': 'Conflicts with existing data: {message}',
  'error.coupon_rejected': 'The coupon cannot be used.', 'error.coupon_limit_reached': 'No more coupons can be issued or claimed.',
  'error.team_unavailable': 'The team cannot be joined.', 'error.price_changed': 'The price changed: price the cart again.',
  'error.idempotency_key_reused': 'A different request was sent again.', 'error.rate_limited': 'Too many attempts: wait a moment.',
  'error.request_timeout': 'The request timed out.', 'error.uri_too_long': 'The address is too long.',
  'error.unavailable': 'The server is starting or under maintenance: try again soon.', 'error.internal': 'Internal server error.',
};

export const dictionaries = {'zh-CN': zh, en};

/** A screen's own words: `register({'zh-CN': {...}, en: {...}})`. */
export function register(words) {
  for (const [lang, entries] of Object.entries(words)) Object.assign(dictionaries[lang], entries);
}

let current = 'zh-CN';

/** The language to start in: this browser's choice, the user's, the browser's. */
export function initialLocale(userLocale) {
  const saved = localStorage.getItem('beacon.locale');
  if (saved && dictionaries[saved]) return saved;
  if (userLocale && dictionaries[userLocale]) return userLocale;
  const browser = (navigator.languages || [navigator.language || 'en'])[0] || 'en';
  return browser.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function setLocale(locale, remember) {
  current = dictionaries[locale] ? locale : 'en';
  document.documentElement.lang = current;
  if (remember) localStorage.setItem('beacon.locale', current);
}

export function locale() {
  return current;
}

/** The text of `key` in the current language, `{name}`s filled from `vars`. */
export function t(key, vars) {
  const text = dictionaries[current][key] ?? dictionaries.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (vars && vars[k] != null ? String(vars[k]) : ''));
}

/** An API error as a sentence in the current language. */
export function errorText(e) {
  const key = 'error.' + (e && e.code);
  if (dictionaries[current][key]) return t(key, {message: e.message});
  return t('error.unknown', {message: (e && e.message) || String(e)});
}
