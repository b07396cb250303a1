// Import: upload a CSV or JSONL file of orders, customers, products or
// events (POST /api/v1/imports, the file as the body), watch it being read
// (GET /api/v1/imports/{id}), download the lines it rejected as CSV.

import {api, get, query} from '../api.js';
import {h, mount, field, fieldError} from '../dom.js';
import {t, errorText, register} from '../i18n.js';
import {number, percent, dateTime} from '../format.js';
import {table, badge, loadInto} from '../widgets.js';

register({
  'zh-CN': {
    'im.title': '导入数据', 'im.kind': '数据类型', 'im.file': '文件（CSV 或 JSONL，UTF-8）',
    'im.kind.orders': '订单', 'im.kind.customers': '客户', 'im.kind.products': '商品', 'im.kind.events': '行为事件',
    'im.columns': '可用的列：{fields}', 'im.currency': '默认币种（订单未写币种时）', 'im.map': '列映射（可选）',
    'im.map_hint': '例如 date=placed_at:%Y%m%d,customer=user_id', 'im.submit': '上传并导入', 'im.busy': '正在上传…',
    'im.need_file': '请选择一个文件', 'im.progress': '导入进度', 'im.read': '已读取 {pct}',
    'im.lines': '行数', 'im.accepted': '已导入', 'im.rejected': '被拒绝的行', 'im.download': '下载被拒绝的行（CSV）',
    'im.recent': '最近的导入', 'im.when': '时间', 'im.name': '文件', 'im.status': '状态',
    'im.status.running': '导入中', 'im.status.done': '已完成', 'im.status.failed': '失败', 'im.status.interrupted': '已中断',
    'im.interrupted': '服务器在导入时停止了。重新上传同一个文件即可继续，已导入的数据不会重复。',
    'im.notes': '提示', 'im.again': '重新上传同一个文件不会重复导入。',
  },
  en: {
    'im.title': 'Import', 'im.kind': 'What the file holds', 'im.file': 'File (CSV or JSONL, UTF-8)',
    'im.kind.orders': 'Orders', 'im.kind.customers': 'Customers', 'im.kind.products': 'Products', 'im.kind.events': 'Events',
    'im.columns': 'Columns it reads: {fields}', 'im.currency': 'Currency of orders that name none', 'im.map': 'Column mapping (optional)',
    'im.map_hint': 'e.g. date=placed_at:%Y%m%d,customer=user_id', 'im.submit': 'Upload and import', 'im.busy': 'Uploading…',
    'im.need_file': 'Choose a file', 'im.progress': 'Progress', 'im.read': '{pct} read',
    'im.lines': 'Lines', 'im.accepted': 'Imported', 'im.rejected': 'Rejected lines', 'im.download': 'Download the rejected lines (CSV)',
    'im.recent': 'Recent imports', 'im.when': 'When', 'im.name': 'File', 'im.status': 'Status',
    'im.status.running': 'Importing', 'im.status.done': 'Done', 'im.status.failed': 'Failed', 'im.status.interrupted': 'Interrupted',
    'im.interrupted': 'The server stopped during the import. Upload the same file again to go on: nothing is imported twice.',
    'im.notes': 'Notes', 'im.again': 'Uploading the same file again imports nothing twice.',
  },
});

const KINDS = {
  orders: 'order_id, user_id, email, phone, placed_at, currency, total, discount, coupon, product_id, sku, name, category, price, quantity',
  customers: 'user_id, anonymous_id, email, phone, created_at, … (other columns become traits)',
  products: 'product_id, sku, name, category, price, currency, stock, status, tags, …',
  events: 'type, event, name, user_id, anonymous_id, message_id, timestamp, … (other columns become properties)',
};

const POLL_MS = 400;

export function render(main) {
  const kind = h('select', {}, Object.keys(KINDS).map((k) => h('option', {value: k}, t('im.kind.' + k))));
  const columns = h('p', {class: 'hint'});
  const showColumns = () => { columns.textContent = t('im.columns', {fields: KINDS[kind.value]}); };
  kind.addEventListener('change', showColumns);
  showColumns();
  const file = h('input', {type: 'file', accept: '.csv,.jsonl,.ndjson,.txt,text/csv'});
  const currency = h('input', {type: 'text', maxlength: 3, size: 4, placeholder: 'CNY', autocomplete: 'off'});
  const map = h('input', {type: 'text', autocomplete: 'off', placeholder: 'date=placed_at:%Y%m%d'});
  const submit = h('button', {type: 'submit', class: 'primary'}, t('im.submit'));
  const alert = h('p', {class: 'error', role: 'alert'});
  const progress = h('section', {class: 'card', 'aria-live': 'polite', hidden: true});
  const recent = h('section', {class: 'card'});
  const form = h('form', {class: 'card', novalidate: true},
    field(t('im.kind'), kind), columns, field(t('im.file'), file, t('im.again')),
    field(t('im.currency'), currency), field(t('im.map'), map, t('im.map_hint')), alert, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    alert.textContent = '';
    fieldError(file, '');
    fieldError(map, '');
    const chosen = file.files && file.files[0];
    if (!chosen) return fieldError(file, t('im.need_file'));
    submit.disabled = true;
    submit.textContent = t('im.busy');
    try {
      const path = query('/api/v1/imports', {kind: kind.value, name: chosen.name, currency: currency.value.trim(), map: map.value.trim()});
      const started = await api('POST', path, chosen, chosen.type || 'application/octet-stream');
      watch(progress, started.id, () => showRecent(recent));
      showRecent(recent);
    } catch (err) {
      const message = errorText(err);
      if (err.code === 'invalid_parameter' && /map/.test(err.message)) fieldError(map, message);
      else if (err.code === 'invalid_file') fieldError(file, message);
      else alert.textContent = message;
    }
    submit.disabled = false;
    submit.textContent = t('im.submit');
  });
  mount(main, h('h1', {}, t('im.title')), form, progress, recent);
  showRecent(recent);
}

function statusBadge(status) {
  const kind = {done: 'ok', failed: 'bad', interrupted: 'bad'}[status];
  return badge(t('im.status.' + status), kind);
}

function rejectsLink(i) {
  return i.rejected > 0 ? h('a', {href: `/api/v1/imports/${encodeURIComponent(i.id)}/rejects`, download: `${i.id}-rejected.csv`}, t('im.download')) : null;
}

/** Shows import `id` in `box`, polling while it runs; `onEnd` when it ends. */
function watch(box, id, onEnd) {
  box.hidden = false;
  const draw = (i) => {
    const pct = i.bytes_total > 0 ? i.bytes_read / i.bytes_total : 1;
    mount(box, h('h2', {}, t('im.progress'), ' ', statusBadge(i.status)),
      h('p', {}, i.file_name || i.id),
      h('progress', {id: 'import-progress', max: i.bytes_total || 1, value: i.bytes_read, 'aria-label': t('im.progress')}),
      h('p', {class: 'muted'}, t('im.read', {pct: percent(pct, 0)})),
      h('dl', {class: 'facts'},
        h('dt', {}, t('im.lines')), h('dd', {id: 'import-lines'}, number(i.lines)),
        h('dt', {}, t('im.accepted')), h('dd', {id: 'import-accepted'}, number(i.accepted)),
        h('dt', {}, t('im.rejected')), h('dd', {id: 'import-rejected'}, number(i.rejected))),
      i.notes.length ? h('p', {class: 'hint'}, t('im.notes'), ': ', i.notes.join('; ')) : null,
      i.status === 'interrupted' ? h('p', {class: 'error'}, t('im.interrupted')) : null,
      i.error ? h('p', {class: 'error', role: 'alert'}, i.error) : null,
      rejectsLink(i));
  };
  const tick = async () => {
    if (!box.isConnected) return;
    let i;
    try {
      i = await get('/api/v1/imports/' + encodeURIComponent(id));
    } catch (e) {
      mount(box, h('p', {class: 'error', role: 'alert'}, errorText(e)));
      return;
    }
    draw(i);
    if (i.status === 'running') setTimeout(tick, POLL_MS);
    else onEnd();
  };
  tick();
}

function showRecent(box) {
  loadInto(box, async () => {
    const {items} = await get('/api/v1/imports');
    return [h('h2', {}, t('im.recent')), table([
      [t('im.when'), (i) => dateTime(i.created_at)],
      [t('im.name'), (i) => i.file_name || i.id],
      [t('im.kind'), (i) => t('im.kind.' + i.kind)],
      [t('im.status'), (i) => statusBadge(i.status)],
      [t('im.lines'), (i) => number(i.lines)],
      [t('im.accepted'), (i) => number(i.accepted)],
      [t('im.rejected'), (i) => [number(i.rejected), ' ', rejectsLink(i)]],
    ], items, t('im.recent'))];
  });
}
