// Dashboard: orders, net revenue and average order value for a range of
// days in the shop's time zone, the change against the period before, and
// the days in a chart (Apache ECharts, vendored) and a table.

import {get, query} from '../api.js';
import {h, mount, field} from '../dom.js';
import {t, errorText, locale} from '../i18n.js';
import {money, number, percent, day, shopToday, shopInfo} from '../format.js';
import {echarts} from '../widgets.js';

const RANGES = [7, 30, 90];
let chosen = {days: 30};

export function render(main) {
  const to = chosen.to || shopToday();
  const from = chosen.from || shopToday(-(chosen.days - 1));
  const fromInput = h('input', {type: 'date', value: from, max: to});
  const toInput = h('input', {type: 'date', value: to});
  const quick = h('div', {class: 'segmented', role: 'group', 'aria-label': t('dash.range')},
    RANGES.map((n) => h('button', {type: 'button', 'aria-pressed': String(!chosen.from && chosen.days === n),
      onclick: () => { chosen = {days: n}; render(main); }}, t('dash.days', {n}))));
  const form = h('form', {class: 'range'}, quick, field(t('dash.from'), fromInput), field(t('dash.to'), toInput),
    h('button', {type: 'submit'}, t('dash.apply')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (fromInput.value && toInput.value) { chosen = {from: fromInput.value, to: toInput.value}; render(main); }
  });
  const body = h('div', {'aria-busy': 'true'}, h('p', {class: 'muted'}, t('common.loading')));
  mount(main, h('h1', {}, t('dash.title')), form, body);
  load(body, from, to);
}

async function load(body, from, to) {
  let d;
  try {
    d = await get(query('/api/v1/dashboard', {from, to}));
  } catch (e) {
    mount(body, h('p', {class: 'error', role: 'alert'}, errorText(e)));
    return;
  }
  body.removeAttribute('aria-busy');
  const cur = d.currency;
  const card = (label, value, ratio, id) => h('section', {class: 'kpi', 'aria-labelledby': id},
    h('h2', {id}, label), h('p', {class: 'value'}, value),
    h('p', {class: 'delta ' + (ratio == null ? '' : ratio >= 0 ? 'up' : 'down')},
      ratio == null ? t('dash.new') : `${ratio >= 0 ? '▲' : '▼'} ${percent(Math.abs(ratio))} ${t('dash.vs')}`));
  const conv = d.current.conversion_rate;
  const kpis = h('div', {class: 'kpis'},
    card(t('dash.visitors'), number(d.current.visitors), d.change.visitors, 'kpi-visitors'),
    card(t('dash.conversion'), conv == null ? '—' : percent(conv, 2), d.change.conversion_rate, 'kpi-conversion'),
    card(t('dash.orders'), number(d.current.orders), d.change.orders, 'kpi-orders'),
    card(t('dash.revenue'), money(d.current.revenue, cur), d.change.revenue, 'kpi-revenue'),
    card(t('dash.aov'), money(d.current.average_order_value, cur), d.change.average_order_value, 'kpi-aov'));
  const chart = h('div', {class: 'chart', role: 'img', 'aria-label': t('dash.daily')});
  const rows = d.days.map((x) => h('tr', {}, h('th', {scope: 'row'}, day(x.date)), h('td', {}, number(x.visitors)),
    h('td', {}, number(x.buyers)), h('td', {}, number(x.orders)), h('td', {}, money(x.revenue, cur))));
  const heads = [t('dash.date'), t('dash.visitors'), t('dash.buyers'), t('dash.orders'), t('dash.revenue')];
  const table = h('details', {class: 'card'}, h('summary', {}, t('dash.table')),
    h('table', {}, h('thead', {}, h('tr', {}, heads.map((x) => h('th', {scope: 'col'}, x)))), h('tbody', {}, rows)));
  const others = d.other_currencies.length ? h('p', {class: 'muted'}, t('dash.other_currencies'), ': ',
    d.other_currencies.map((o) => `${money(o.revenue, o.currency)} (${number(o.orders)})`).join(' · ')) : null;
  mount(body, kpis, h('section', {class: 'card'}, h('h2', {}, t('dash.daily')),
    h('p', {class: 'muted'}, t('dash.tz', {tz: d.tz || shopInfo().utc_offset})), chart), others, table);
  try {
    const lib = await echarts();
    const c = lib.init(chart, null, {renderer: 'svg', locale: locale() === 'zh-CN' ? 'ZH' : 'EN'});
    c.setOption({
      tooltip: {trigger: 'axis'},
      legend: {top: 0, data: [t('dash.visitors'), t('dash.chart_orders'), t('dash.chart_revenue')]},
      grid: {left: 56, right: 64, top: 56, bottom: 32},
      xAxis: {type: 'category', data: d.days.map((x) => day(x.date))},
      yAxis: [{type: 'value', minInterval: 1}, {type: 'value', name: t('dash.chart_revenue')}],
      series: [
        {name: t('dash.visitors'), type: 'line', data: d.days.map((x) => x.visitors)},
        {name: t('dash.chart_orders'), type: 'bar', data: d.days.map((x) => x.orders)},
        {name: t('dash.chart_revenue'), type: 'line', yAxisIndex: 1, data: d.days.map((x) => Number(x.revenue))},
      ],
    });
    new ResizeObserver(() => c.resize()).observe(chart);
  } catch {
    chart.replaceWith(h('p', {class: 'muted'}, t('common.none')));
  }
}
