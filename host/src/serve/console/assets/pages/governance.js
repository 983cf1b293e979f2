// Governance: the effective policy (priority, caps, quiet hours, holdouts,
// the WeCom limit, guides, per-strategy overrides) and what today's run
// would hold back, by strategy and reason — a preview with no side effect.
// Calls: GET /api/v1/governance.

import { api } from '../api.js';
import { alertBox, facts, h, isObject, note, pageRoot, panel, strategyLink, table } from '../dom.js';
import { compact, count, when } from '../format.js';
import { statusName, t } from '../i18n.js';

const STATUSES = ['dispatched', 'deferred', 'holdout', 'suppressed', 'failed'];

export async function render() {
  const g = await api('/api/v1/governance');
  const policy = g.policy || {};
  const today = g.today || {};
  return pageRoot('governance', t('gov.title'),
    h('div', { class: 'columns' },
      panel(t('gov.policy'), policyFacts(policy)),
      panel(t('gov.priority'), priorityList(policy.priority))),
    isObject(policy.strategies) && Object.keys(policy.strategies).length ? panel(t('gov.overrides'), overridesTable(policy.strategies)) : null,
    panel(t('gov.today', { at: when(today.at) }), note(t('gov.today.note')), todayTables(today.by_strategy || {})),
    panel(t('gov.raw'), h('details', {}, h('summary', { text: t('gov.raw.show') }), h('pre', { class: 'json', text: JSON.stringify(policy, null, 2) }))));
}

function hours(n) {
  return t('gov.hours', { n: count(n) });
}

/** The sections operators ask about, in words; the rest as compact JSON. */
function policyFacts(p) {
  const fatigue = p.fatigue || {};
  const quiet = p.quiet_hours || {};
  const wecom = p.wecom_limit || {};
  const pairs = [
    [t('gov.holdout'), p.holdout_percent !== undefined ? `${p.holdout_percent}%` : null],
    [t('gov.fatigue'), fatigue.max_touches !== undefined ? t('gov.fatigue.text', { n: fatigue.max_touches, h: hours(fatigue.window_hours) }) : null],
    [t('gov.gap'), fatigue.min_gap_hours !== undefined ? hours(fatigue.min_gap_hours) : null],
    ...Object.entries(fatigue.channels || {}).map(([ch, c]) => [t('gov.channelcap', { ch }), t('gov.fatigue.text', { n: c.max_touches, h: hours(c.window_hours) })]),
    [t('gov.quiet'), quiet.enabled === false ? t('gov.off') : quiet.start ? `${quiet.start} – ${quiet.end}` : null],
    [t('gov.oncap'), p.on_cap ? t(`gov.oncap.${p.on_cap}`, null, p.on_cap) : null],
    [t('gov.maxdefer'), p.max_defer_hours !== undefined ? hours(p.max_defer_hours) : null],
    [t('gov.wecom'), wecom.per ? t('gov.wecom.text', { per: t(`gov.per.${wecom.per}`, null, wecom.per), channels: (wecom.channels || []).join(', ') }) : null],
    [t('gov.exempt'), Array.isArray(p.exempt_from_caps) ? (p.exempt_from_caps.length ? p.exempt_from_caps.join(', ') : t('none')) : null],
    [t('gov.guides'), isObject(p.guides) ? guidesInWords(p.guides) : null],
    [t('gov.key.on_guide_full'), p.on_guide_full ? t(`gov.oncap.${p.on_guide_full}`, null, p.on_guide_full) : null],
  ];
  const known = new Set(['holdout_percent', 'fatigue', 'quiet_hours', 'on_cap', 'max_defer_hours', 'wecom_limit', 'exempt_from_caps', 'guides', 'on_guide_full', 'priority', 'strategies']);
  for (const [k, v] of Object.entries(p)) {
    if (!known.has(k)) pairs.push([t(`gov.key.${k}`, null, k), isObject(v) || Array.isArray(v) ? h('code', { class: 'wrap', text: compact(v) }) : compact(v)]);
  }
  return facts(pairs);
}

/** Who takes a staff task when a guide has left, and how many a guide gets a day. */
function guidesInWords(g) {
  const capacity = g.default_daily_capacity === null || g.default_daily_capacity === undefined
    ? t('gov.guides.nocap') : t('gov.guides.cap', { n: count(g.default_daily_capacity) });
  const fallbacks = isObject(g.store_fallback) ? Object.entries(g.store_fallback) : [];
  const fallback = fallbacks.length
    ? t('gov.guides.stores', { list: fallbacks.map(([store, to]) => `${store} → ${to}`).join(', '), hq: g.hq_account || '–' })
    : t('gov.guides.hq', { hq: g.hq_account || '–' });
  return t('gov.guides.text', { capacity, fallback });
}

function priorityList(priority) {
  if (!Array.isArray(priority) || !priority.length) return note(t('gov.nopriority'));
  return h('div', {}, note(t('gov.priority.note')), h('ol', { class: 'priority' }, priority.map((id) => h('li', {}, strategyLink(id)))));
}

/** Today's run instants as times of day; an hourly schedule as its count and span. */
function runTimes(runs) {
  if (!Array.isArray(runs) || !runs.length) return '–';
  const time = (at) => when(at).slice(-5);
  if (runs.length <= 4) return runs.map(time).join(', ');
  return t('gov.runs.many', { n: count(runs.length), first: time(runs[0]), last: time(runs[runs.length - 1]) });
}

const unset = (v) => v === null || v === undefined || (Array.isArray(v) && !v.length);

/** canvas.toml's [strategies.<id>] settings that override the policy: a row per strategy that sets any. */
export function overridesTable(all) {
  const byId = Object.fromEntries(Object.entries(all).filter(([, o]) => isObject(o) && Object.values(o).some((v) => !unset(v))));
  if (!Object.keys(byId).length) return note(t('gov.overrides.none'));
  const shown = (v, unit = '') => (v === null || v === undefined || (Array.isArray(v) && !v.length) ? '–' : Array.isArray(v) ? v.join(', ') : `${v}${unit}`);
  return table([
    { label: t('col.strategy'), cell: ([id]) => strategyLink(id) },
    { label: t('gov.holdout'), cell: ([, o]) => shown(o.holdout_percent, '%'), num: true },
    { label: t('gov.oncap'), cell: ([, o]) => (o.on_cap ? t(`gov.oncap.${o.on_cap}`, null, o.on_cap) : '–') },
    { label: t('gov.maxdefer'), cell: ([, o]) => (o.max_defer_hours === null || o.max_defer_hours === undefined ? '–' : hours(o.max_defer_hours)), num: true },
    { label: t('gov.budget'), cell: ([, o]) => (o.coupon_budget_per_day === null || o.coupon_budget_per_day === undefined ? '–' : compact(o.coupon_budget_per_day)), num: true },
    { label: t('gov.fallback'), cell: ([, o]) => shown(o.fallback_channels) },
    { label: t('gov.key.on_guide_full'), cell: ([, o]) => (o.on_guide_full ? t(`gov.oncap.${o.on_guide_full}`, null, o.on_guide_full) : '–') },
  ], Object.entries(byId), { rowHeader: true });
}

function todayTables(byStrategy) {
  const ids = Object.keys(byStrategy).sort();
  if (!ids.length) return note(t('gov.today.none'));
  const statusRows = ids.map((id) => ({ id, ...byStrategy[id] }));
  const reasons = [];
  for (const id of ids) {
    for (const [reason, n] of Object.entries(byStrategy[id].by_reason || {})) reasons.push({ id, reason, n });
  }
  reasons.sort((a, b) => b.n - a.n);
  return h('div', {},
    table([
      { label: t('col.strategy'), cell: (r) => strategyLink(r.id) },
      { label: t('gov.runs'), cell: (r) => runTimes(r.runs), wrap: true },
      { label: t('col.audience'), cell: (r) => count(r.audience), num: true },
      { label: t('col.held_back'), cell: (r) => count(r.held_back), num: true },
      ...STATUSES.map((s) => ({ label: statusName(s), cell: (r) => count((r.by_status || {})[s] || 0), num: true })),
    ], statusRows, { rowHeader: true }),
    statusRows.filter((r) => Array.isArray(r.failed) && r.failed.length).map((r) =>
      alertBox({ message: `${r.id}: ${r.failed.join('; ')}` })),
    h('h3', { text: t('gov.reasons') }),
    table([
      { label: t('col.strategy'), cell: (r) => strategyLink(r.id) },
      { label: t('col.reason'), cell: (r) => r.reason, wrap: true },
      { label: t('col.count'), cell: (r) => count(r.n), num: true },
    ], reasons, { empty: t('gov.noreasons') }));
}
