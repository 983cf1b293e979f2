// Results: live results over a date range, grouped as asked (strategy,
// step, level, store, guide, channel, and a time grain): uplift with its
// 95% interval, conversion touched vs holdout, harm and ROI as ECharts
// charts, then the table as `canvas results` prints it.
// Calls: GET /api/v1/results?from=&to=&by=.

import { api, query, serviceToday } from '../api.js';
import { alertBox, facts, field, h, loading, note, pageRoot, panel, replace, table } from '../dom.js';
import { axisLabel, chartFigure, errorBars, PALETTE, splitLine } from '../charts.js';
import { count, isoDate, percent, pp, ratio, uplift, yuan } from '../format.js';
import { t } from '../i18n.js';

const DIMENSIONS = ['strategy', 'step', 'level', 'store', 'guide', 'channel'];
const GRAINS = ['day', 'week', 'month'];

function initial() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const today = serviceToday();
  const start = new Date(today);
  start.setDate(start.getDate() - 29);
  const by = (params.get('by') || 'strategy,week').split(',').filter(Boolean);
  return { from: params.get('from') || isoDate(start), to: params.get('to') || isoDate(today), by };
}

export async function render() {
  const asked = initial();
  const from = h('input', { type: 'date', name: 'from', value: asked.from, required: true });
  const to = h('input', { type: 'date', name: 'to', value: asked.to, required: true });
  const dims = DIMENSIONS.map((d) => h('input', { type: 'checkbox', name: 'by', value: d, checked: asked.by.includes(d) }));
  const grain = h('select', { name: 'grain' },
    h('option', { value: '', text: t('results.grain.none') }),
    GRAINS.map((g) => h('option', { value: g, selected: asked.by.includes(g), text: t(`results.grain.${g}`) })));
  const out = h('div', { class: 'results-out' });
  const load = async () => {
    const by = [...dims.filter((d) => d.checked).map((d) => d.value), grain.value].filter(Boolean).join(',');
    const params = { from: from.value, to: to.value, by };
    history.replaceState(null, '', `#/results${query(params)}`);
    replace(out, loading());
    try {
      replace(out, shownResults(await api(`/api/v1/results${query(params)}`)));
    } catch (error) {
      replace(out, alertBox(error));
    }
  };
  const form = h('form', {
    class: 'controls',
    onsubmit: (e) => {
      e.preventDefault();
      load();
    },
  },
  field(t('results.from'), from),
  field(t('results.to'), to),
  h('fieldset', { class: 'inline' }, h('legend', { text: t('results.by') }),
    dims.map((d) => field(t(`dim.${d.value}`), d))),
  field(t('results.grain'), grain),
  h('button', { type: 'submit', class: 'primary', text: t('results.show') }));
  load();
  return pageRoot('results', t('results.title'), note(t('results.note')), panel(null, form), out);
}

function shownResults(r) {
  const by = r.by || [];
  const time = by.find((b) => GRAINS.includes(b)) || null;
  const others = by.filter((b) => !GRAINS.includes(b));
  const label = (row) => others.map((d) => row.key[d] ?? '–').join(' · ') || t('results.all');
  const total = r.total || {};
  const rows = r.groups && r.groups.length ? r.groups : [{ ...total, key: {} }];
  return h('div', {},
    h('p', { class: 'meta', text: t('results.meta', { from: r.from, to: r.to, days: r.attribution_days, harm: r.harm_days }) }),
    kpis(total),
    rows.some((x) => x.selected) ? charts(rows, time, label) : note(t('results.nodata')),
    panel(t('results.table'), resultsTable(r, others, time)),
    panel(t('results.sales'), salesSplit(r.sales_split || {})));
}

function kpis(total) {
  const items = [
    [count(total.selected), t('results.selected')],
    [count(total.touched), t('results.touched')],
    [count(total.held_out), t('results.heldout')],
    [`${percent(total.touch_conversion)} / ${percent(total.holdout_conversion)}`, t('results.conv')],
    [uplift(total.uplift_pp, total.uplift_low_pp, total.uplift_high_pp), t('results.uplift')],
    [yuan(total.incremental_revenue_fen), t('results.incremental')],
    [yuan(total.cost_fen), t('results.cost')],
    [ratio(total.roi), 'ROI'],
  ];
  return h('div', { class: 'kpis' }, items.map(([v, k]) => h('div', { class: 'kpi' }, h('b', { text: v }), h('span', { text: k }))));
}

/** Series per group over time (a grain asked), else one bar per group. */
function charts(rows, time, label) {
  const groups = [...new Set(rows.map(label))];
  const xs = time ? [...new Set(rows.map((r) => r.key[time]))].sort() : groups;
  // The row of group `g` at x; without a grain x is the group itself.
  const at = (g, x) => rows.find((r) => (time ? label(r) === g && r.key[time] === x : label(r) === x));
  // Over time one series per group; else one series whose x is the group.
  const lines = time ? groups : [null];
  const num = (v, scale = 1) => (v === null || v === undefined ? null : +(v * scale).toFixed(2));
  const valueAxis = (unit) => ({ type: 'value', axisLabel: { ...axisLabel, formatter: `{value}${unit}` }, splitLine });
  const xAxis = { type: 'category', data: xs, axisLabel: { ...axisLabel, rotate: xs.length > 8 ? 30 : 0 } };
  const kind = time ? 'line' : 'bar';
  const colorOf = (i, fallback) => (time ? PALETTE[i % PALETTE.length] : fallback);

  const interval = (get, unit, name) => () => {
    const series = [];
    lines.forEach((g, i) => {
      const color = colorOf(i, PALETTE[0]);
      const points = xs.map((x) => { const r = at(g, x); return r ? get(r) : [null, null, null]; });
      const seriesName = g ?? name;
      series.push({ name: seriesName, type: kind, barMaxWidth: 36, connectNulls: true, itemStyle: { color }, data: points.map((p) => num(p[0])) });
      const offset = time ? (i - (lines.length - 1) / 2) * 5 : 0;
      const bars = points.map((p, xi) => [xi, p[1], p[2]]).filter((p) => p[1] !== null && p[1] !== undefined && p[2] !== null && p[2] !== undefined);
      series.push(errorBars(seriesName, bars, time ? color : '#1d2733', offset));
    });
    return { xAxis, yAxis: valueAxis(unit), series, tooltip: { trigger: 'axis', confine: true, formatter: tooltip(xs, lines, at, get) } };
  };
  const conversion = () => {
    const series = [];
    lines.forEach((g, i) => {
      const pick = (f) => xs.map((x) => { const r = at(g, x); return r ? num(r[f], 100) : null; });
      const prefix = g === null ? '' : `${g} · `;
      series.push({ name: `${prefix}${t('results.touched')}`, type: kind, barMaxWidth: 28, connectNulls: true, itemStyle: { color: colorOf(i, PALETTE[0]) }, data: pick('touch_conversion') });
      series.push({ name: `${prefix}${t('results.heldout')}`, type: kind, barMaxWidth: 28, connectNulls: true, lineStyle: { type: 'dashed' }, itemStyle: { color: colorOf(i, '#7f7f7f') }, data: pick('holdout_conversion') });
    });
    return { xAxis, yAxis: valueAxis('%'), series, tooltip: { trigger: 'axis', confine: true, valueFormatter: (v) => (v === null || v === undefined ? '–' : `${Number(v).toFixed(1)}%`) } };
  };
  const roi = () => ({
    xAxis,
    yAxis: valueAxis(''),
    series: lines.map((g, i) => ({ name: g ?? 'ROI', type: kind, barMaxWidth: 36, connectNulls: true, itemStyle: { color: colorOf(i, PALETTE[2]) }, data: xs.map((x) => { const r = at(g, x); return r ? num(r.roi) : null; }) })),
    tooltip: { trigger: 'axis', confine: true, valueFormatter: (v) => (v === null || v === undefined ? '–' : Number(v).toFixed(2)) },
  });
  return h('div', { class: 'chart-grid' },
    chartFigure(t('results.chart.uplift'), interval((r) => [r.uplift_pp, r.uplift_low_pp, r.uplift_high_pp], ' pp', t('results.uplift'))),
    chartFigure(t('results.chart.conversion'), conversion),
    chartFigure(t('results.chart.harm'), interval((r) => [r.harm_uplift_pp, r.harm_uplift_low_pp, r.harm_uplift_high_pp], ' pp', t('results.harm.uplift'))),
    chartFigure(t('results.chart.roi'), roi));
}

/** Tooltip lines "group: +1.5 pp [−0.2, +3.1]" for the hovered x, built as text (group names are data). */
function tooltip(xs, lines, at, get) {
  return (params) => {
    const list = Array.isArray(params) ? params : [params];
    if (!list.length) return '';
    const x = xs[list[0].dataIndex];
    const box = document.createElement('div');
    const head = document.createElement('b');
    head.textContent = x;
    box.appendChild(head);
    for (const g of lines) {
      const r = at(g, x);
      if (!r) continue;
      const div = document.createElement('div');
      div.textContent = g === null ? uplift(...get(r)) : `${g}: ${uplift(...get(r))}`;
      box.appendChild(div);
    }
    return box;
  };
}

function resultsTable(r, others, time) {
  const keyCols = [...others, time].filter(Boolean).map((d) => ({ label: t(`dim.${d}`, null, d), cell: (row) => row.key[d] ?? '–' }));
  const rows = [...(r.groups || []), { ...r.total, key: {}, total: true }];
  const columns = [
    ...(keyCols.length ? keyCols : [{ label: t('results.group'), cell: () => t('results.all') }]),
    { label: t('results.selected'), cell: (x) => count(x.selected), num: true },
    { label: t('results.touched'), cell: (x) => count(x.touched), num: true },
    { label: t('results.heldout'), cell: (x) => count(x.held_out), num: true },
    { label: t('results.conv.touched'), cell: (x) => percent(x.touch_conversion), num: true },
    { label: t('results.conv.holdout'), cell: (x) => percent(x.holdout_conversion), num: true },
    { label: t('results.uplift95'), cell: (x) => uplift(x.uplift_pp, x.uplift_low_pp, x.uplift_high_pp), num: true },
    { label: t('results.incremental'), cell: (x) => yuan(x.incremental_revenue_fen), num: true },
    { label: t('results.attributed'), cell: (x) => yuan(x.attributed_revenue_fen), num: true },
    { label: t('results.cost'), cell: (x) => yuan(x.cost_fen), num: true },
    { label: 'ROI', cell: (x) => ratio(x.roi), num: true },
    { label: t('results.harm'), cell: (x) => percent(x.touched_harm_rate), num: true },
    { label: t('results.harm.holdout'), cell: (x) => percent(x.holdout_harm_rate), num: true },
    { label: t('results.harm.uplift'), cell: (x) => pp(x.harm_uplift_pp), num: true },
    { label: t('results.tasks'), cell: (x) => (x.staff_tasks ? `${count(x.staff_tasks_done)}/${count(x.staff_tasks)}` : '–'), num: true },
  ];
  // The total row's first cell says so.
  const first = columns[0].cell;
  columns[0] = { ...columns[0], cell: (x) => (x.total ? t('results.total') : first(x)) };
  return table(columns, rows, { rowClass: (x) => (x.total ? 'total' : null) });
}

function salesSplit(s) {
  return facts([
    [t('results.sales.new'), `${count(s.new_members)} · ${yuan(s.new_revenue_fen)}`],
    [t('results.sales.existing'), `${count(s.existing_members)} · ${yuan(s.existing_revenue_fen)}`],
    [t('results.sales.reactivated'), `${count(s.reactivated_members)} · ${yuan(s.reactivated_revenue_fen)}`],
  ]);
}
