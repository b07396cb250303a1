// Customer value (客户价值): the RFM grid (recency × frequency, customers
// and revenue in each cell, shaded by customers), the eight value groups,
// the lifecycle funnel with the moves between stages of the last 30 days,
// and k-means clusters on RFM with their sizes, means and suggested names
// (a bubble chart: mean days since the last order × mean spend, sized by
// customers). As of a day (today by default). docs/INSIGHT.md has
// the rules.

import {get, query} from '../api.js';
import {h, mount, field} from '../dom.js';
import {t, register} from '../i18n.js';
import {money, number, percent, shopToday} from '../format.js';
import {table, loadInto, echarts} from '../widgets.js';

register({
  'zh-CN': {
    'in.title': '客户价值', 'in.as_of': '统计日期', 'in.show': '查看', 'in.grid': 'RFM 分布（最近一次购买 × 购买频次）',
    'in.grid_note': '行：R 评分（5 = 最近购买）；列：F 评分（5 = 购买最多）。每格：客户数 / 净消费。',
    'in.r': 'R {r}', 'in.f': 'F {f}', 'in.cell': '{customers} 人 / {revenue}', 'in.groups': 'RFM 价值分组',
    'in.group': '分组', 'in.customers': '客户数', 'in.share': '占比', 'in.revenue': '净消费',
    'in.funnel': '生命周期', 'in.stage': '阶段', 'in.profiles': '人数', 'in.clusters': '聚类（k-means）', 'in.k': '分几类',
    'in.cluster': '类别', 'in.recency': '平均距今天数', 'in.frequency': '平均订单数', 'in.monetary': '平均消费',
    'in.quality': '惯性 {inertia}，轮廓系数 {silhouette}',
    'in.moves': '近 30 天的阶段变化', 'in.from': '从', 'in.to': '到', 'in.no_moves': '近 30 天没有阶段变化。',
    'in.chart': '各类的平均距今天数与平均消费（气泡大小：客户数）',
    'cluster.core': '核心高价值', 'cluster.growing': '成长中', 'cluster.cooling': '流失风险', 'cluster.dormant': '沉睡',
  },
  en: {
    'in.title': 'Customer value', 'in.as_of': 'As of', 'in.show': 'Show', 'in.grid': 'RFM grid (recency × frequency)',
    'in.grid_note': 'Rows: R score (5 = bought most recently); columns: F score (5 = bought most often). Each cell: customers / net spend.',
    'in.r': 'R {r}', 'in.f': 'F {f}', 'in.cell': '{customers} / {revenue}', 'in.groups': 'RFM value groups',
    'in.group': 'Group', 'in.customers': 'Customers', 'in.share': 'Share', 'in.revenue': 'Net spend',
    'in.funnel': 'Lifecycle', 'in.stage': 'Stage', 'in.profiles': 'Profiles', 'in.clusters': 'Clusters (k-means)', 'in.k': 'Clusters',
    'in.cluster': 'Cluster', 'in.recency': 'Mean days since', 'in.frequency': 'Mean orders', 'in.monetary': 'Mean spend',
    'in.quality': 'Inertia {inertia}, silhouette {silhouette}',
    'in.moves': 'Moves in the last 30 days', 'in.from': 'From', 'in.to': 'To', 'in.no_moves': 'No moves in the last 30 days.',
    'in.chart': 'Each cluster\'s mean days since the last order and mean spend (bubble size: customers)',
    'cluster.core': 'Core', 'cluster.growing': 'Growing', 'cluster.cooling': 'Cooling', 'cluster.dormant': 'Dormant',
  },
});

let asOf = null;
let k = 4;

export function render(main) {
  const day = h('input', {type: 'date', value: asOf || shopToday()});
  const form = h('form', {class: 'range', onsubmit: (e) => { e.preventDefault(); asOf = day.value || null; render(main); }},
    field(t('in.as_of'), day), h('button', {type: 'submit'}, t('in.show')));
  const grid = h('div', {});
  const funnel = h('div', {});
  const clusters = h('div', {});
  const card = (id, title, body) => h('section', {class: 'card', 'aria-labelledby': id}, h('h2', {id}, title), body);
  mount(main, h('h1', {}, t('in.title')), form, card('in-grid', t('in.grid'), grid),
    h('div', {class: 'grid2'}, card('in-funnel', t('in.funnel'), funnel), card('in-clusters', t('in.clusters'), clusters)));
  const params = {as_of: asOf};
  loadInto(grid, async () => rfm(await get(query('/api/v1/rfm', params))));
  loadInto(funnel, async () => {
    const [f, moves] = await Promise.all([get(query('/api/v1/lifecycle', params)), get('/api/v1/lifecycle/transitions?days=30')]);
    return [stages(f), h('h3', {}, t('in.moves')), transitions(moves)];
  });
  showClusters(clusters, params);
}

function rfm(r) {
  const cells = new Map(r.grid.map((c) => [`${c.r}-${c.f}`, c]));
  const most = Math.max(1, ...r.grid.map((c) => c.customers));
  const rows = [5, 4, 3, 2, 1].map((rScore) => h('tr', {}, h('th', {scope: 'row'}, t('in.r', {r: rScore})),
    [1, 2, 3, 4, 5].map((f) => {
      const c = cells.get(`${rScore}-${f}`);
      // light to mid blue: dark text stays readable on every cell
      const shade = Math.round(3 + 25 * c.customers / most);
      return h('td', {class: 'in-cell', style: `background: hsl(210 70% ${100 - shade}%)`, 'data-r': rScore, 'data-f': f},
        t('in.cell', {customers: number(c.customers), revenue: money(c.revenue, r.currency)}));
    })));
  const grid = h('table', {class: 'in-grid'}, h('caption', {class: 'sr-only'}, t('in.grid')),
    h('thead', {}, h('tr', {}, h('td', {}), [1, 2, 3, 4, 5].map((f) => h('th', {scope: 'col'}, t('in.f', {f}))))), h('tbody', {}, rows));
  const groups = table([
    [t('in.group'), (g) => t('rfm.' + g.group)],
    [t('in.customers'), (g) => number(g.customers)],
    [t('in.share'), (g) => percent(g.share)],
    [t('in.revenue'), (g) => money(g.revenue, r.currency)],
  ], r.groups, t('in.groups'));
  return [h('p', {class: 'muted'}, t('in.grid_note')), h('div', {class: 'cust-scroll'}, grid), h('h3', {}, t('in.groups')), groups];
}

function stages(f) {
  const most = Math.max(1, ...f.stages.map((s) => s.profiles));
  return table([
    [t('in.stage'), (s) => t('stage.' + s.stage)],
    [t('in.profiles'), (s) => h('span', {class: 'in-bar'},
      h('meter', {min: 0, max: most, value: s.profiles, 'aria-label': t('stage.' + s.stage)}), ' ', number(s.profiles))],
  ], f.stages, t('in.funnel'));
}

function transitions(m) {
  if (!m.items.length) return h('p', {class: 'muted'}, t('in.no_moves'));
  return table([
    [t('in.from'), (x) => t('stage.' + x.from)], [t('in.to'), (x) => t('stage.' + x.to)],
    [t('in.profiles'), (x) => number(x.profiles)],
  ], m.items, t('in.moves'));
}

/** The clusters as bubbles: mean days since the last order × mean spend, sized by customers. */
async function bubbles(box, c) {
  const charts = await echarts();
  // drawn once the box is on the page (it has no size before)
  for (let i = 0; !box.isConnected && i < 120; i++) await new Promise((r) => requestAnimationFrame(r));
  if (!box.isConnected) return; // the page moved on
  const chart = charts.getInstanceByDom(box) || charts.init(box, null, {renderer: 'svg'});
  const most = Math.max(1, ...c.clusters.map((x) => x.customers));
  chart.setOption({
    grid: {left: 64, right: 24, top: 16, bottom: 40}, tooltip: {trigger: 'item'},
    xAxis: {type: 'value', name: t('in.recency'), nameLocation: 'middle', nameGap: 26},
    yAxis: {type: 'value', name: t('in.monetary')},
    series: [{type: 'scatter', data: c.clusters.map((x) => ({
      name: t('cluster.' + x.name), value: [Math.round(x.recency_days), Number(x.monetary.toFixed(2)), x.customers],
      symbolSize: 12 + 48 * Math.sqrt(x.customers / most),
    })), label: {show: true, formatter: (p) => p.name, position: 'top'}}],
  });
}

function showClusters(box, params) {
  const pick = h('select', {onchange: (e) => { k = Number(e.target.value); showClusters(box, params); }},
    [2, 3, 4, 5, 6].map((n) => h('option', {value: n, selected: n === k}, String(n))));
  const body = h('div', {});
  mount(box, field(t('in.k'), pick), body);
  loadInto(body, async () => {
    const c = await get(query('/api/v1/clusters', {...params, k}));
    const chart = h('div', {class: 'chart in-bubbles', role: 'img', 'aria-label': t('in.chart')});
    bubbles(chart, c).catch(() => mount(chart, h('p', {class: 'muted'}, t('in.chart'))));
    return [h('p', {class: 'muted'}, t('in.quality', {inertia: number(Math.round(c.inertia)), silhouette: c.silhouette.toFixed(3)})),
      chart,
      table([
        [t('in.cluster'), (x) => t('cluster.' + x.name)],
        [t('in.customers'), (x) => number(x.customers)],
        [t('in.recency'), (x) => number(Math.round(x.recency_days))],
        [t('in.frequency'), (x) => x.frequency.toFixed(2)],
        [t('in.monetary'), (x) => money(x.monetary.toFixed(2), c.currency)],
      ], c.clusters, t('in.clusters'))];
  });
}
