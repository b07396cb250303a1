// Pieces every screen uses: a table from rows, a "load more" pager over a
// cursor, a loading/error box, badges, key–value lists.

import {h, mount} from './dom.js';
import {t, errorText, register} from './i18n.js';

register({
  'zh-CN': {'w.more': '加载更多', 'w.end': '没有更多了', 'w.empty': '暂无数据'},
  en: {'w.more': 'Load more', 'w.end': 'No more', 'w.empty': 'Nothing here yet'},
});

/** A table: `columns` are [header, row => cell]; cells are text or nodes. */
export function table(columns, rows, caption) {
  const body = h('tbody', {}, rows.map((r) => h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(r))))));
  return h('table', {}, caption ? h('caption', {class: 'sr-only'}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map(([head]) => h('th', {scope: 'col'}, head)))), body);
}

/**
 * A list that loads pages on demand: `fetchPage(cursor)` answers
 * {items, next_cursor}; `show(items)` makes the nodes to append.
 */
export function pager(fetchPage, show) {
  const list = h('div', {class: 'pager'});
  const status = h('p', {class: 'muted', role: 'status'});
  const more = h('button', {type: 'button'}, t('w.more'));
  let cursor = null;
  let first = true;
  async function next() {
    more.disabled = true;
    try {
      const page = await fetchPage(cursor);
      if (first && !page.items.length) status.textContent = t('w.empty');
      first = false;
      list.append(show(page.items));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (e) {
      status.textContent = errorText(e);
    }
    more.disabled = false;
  }
  more.addEventListener('click', next);
  next();
  return h('div', {}, list, status, more);
}

/** Runs `load()` and shows its nodes, or the error, in `box`. */
export async function loadInto(box, load) {
  box.setAttribute('aria-busy', 'true');
  mount(box, h('p', {class: 'muted'}, t('common.loading')));
  try {
    mount(box, await load());
  } catch (e) {
    mount(box, h('p', {class: 'error', role: 'alert'}, errorText(e)));
  }
  box.removeAttribute('aria-busy');
}

export function badge(text, kind) {
  return h('span', {class: 'badge' + (kind ? ' ' + kind : '')}, text);
}

/** <dl> of [label, value] pairs (values text or nodes; empty ones skipped). */
export function facts(pairs) {
  return h('dl', {class: 'facts'}, pairs.filter(([, v]) => v != null && v !== '').map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** Any JSON value as readable text (never as HTML). */
export function jsonText(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

let echartsLoading = null;

/** Loads the chart library once (a classic script, from this server). */
export function echarts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  echartsLoading ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/console/vendor/echarts.min.js';
    s.onload = () => resolve(window.echarts);
    s.onerror = reject;
    document.head.append(s);
  });
  return echartsLoading;
}
