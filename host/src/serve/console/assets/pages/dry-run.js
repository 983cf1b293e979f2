// Dry run: pick strategies, a date range and config overrides (JSON per
// strategy), start a simulation over the live store's data in a scratch
// directory, follow it until it is done, and open its report (in the page
// or a new tab). `#/dry-run/<id>` shows one dry run.
// Calls: GET /api/v1/plugins, GET|POST /api/v1/dry-runs, GET /api/v1/dry-runs/{id}.

import { api, seg, serviceToday } from '../api.js';
import { alertBox, badge, field, h, isObject, loading, note, pageRoot, panel, replace, strategyLink, table } from '../dom.js';
import { count, isoDate, when, yuan } from '../format.js';
import { statusName, t } from '../i18n.js';

const POLL_MS = 1500;

export async function render(ctx) {
  const plugins = await api('/api/v1/plugins').catch(() => []);
  const current = h('div', { class: 'dry-run-current' });
  const list = panel(t('dry.list'), loading());
  const root = pageRoot('dry-run', t('dry.title'),
    note(t('dry.note')),
    startForm(ctx, plugins, current, () => fillList(list)),
    current,
    list);
  fillList(list);
  if (ctx.param) follow(ctx, ctx.param, current, () => fillList(list));
  return root;
}

function startForm(ctx, plugins, current, relist) {
  const today = serviceToday();
  const start = new Date(today);
  start.setDate(start.getDate() - 28);
  const from = h('input', { type: 'date', name: 'from', value: isoDate(start), required: true });
  const to = h('input', { type: 'date', name: 'to', value: isoDate(today), required: true });
  const rows = plugins.map((p) => {
    const pick = h('input', { type: 'checkbox', name: 'strategy', value: p.id, checked: p.enabled });
    const overrides = h('textarea', { name: `config-${p.id}`, rows: 2, spellcheck: 'false', class: 'json', placeholder: '{"key": value}' });
    // Overrides folded away: most dry runs try the config as it is.
    return { id: p.id, pick, overrides, element: h('div', { class: 'dry-strategy' },
      field(p.name ? `${p.name} (${p.id})` : p.id, pick),
      h('details', {}, h('summary', { text: t('dry.overrides.show') }), field(t('dry.overrides', { id: p.id }), overrides))) };
  });
  const slot = h('div', { class: 'slot' });
  // A dry run changes nothing live: a read-only session may start one.
  const submit = h('button', { type: 'submit', class: 'primary', text: t('dry.start') });
  return panel(t('dry.new'), h('form', {
    class: 'dry-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      replace(slot);
      const errors = [];
      const config = {};
      const strategies = rows.filter((r) => r.pick.checked).map((r) => r.id);
      for (const r of rows) {
        const text = r.overrides.value.trim();
        if (!text || !r.pick.checked) continue;
        try {
          const parsed = JSON.parse(text);
          if (!isObject(parsed)) throw new Error(t('dry.notobject'));
          config[r.id] = parsed;
        } catch (error) {
          errors.push(`${r.id}: ${error.message}`);
          r.overrides.closest('details').open = true;
        }
      }
      if (!strategies.length) errors.push(t('dry.nostrategy'));
      if (errors.length) {
        replace(slot, alertBox({ message: t('dry.bad'), details: errors }));
        return;
      }
      submit.disabled = true;
      try {
        const started = await api('/api/v1/dry-runs', { method: 'POST', body: { strategies, from: from.value, to: to.value, config } });
        replace(slot, h('div', { class: 'msg ok', role: 'status', text: t('dry.started', { id: started.id }) }));
        history.replaceState(null, '', `#/dry-run/${encodeURIComponent(started.id)}`);
        relist();
        follow(ctx, started.id, current, relist);
      } catch (error) {
        replace(slot, alertBox(error));
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('div', { class: 'toolbar' }, field(t('dry.from'), from), field(t('dry.to'), to)),
  h('fieldset', { class: 'strategies' }, h('legend', { text: t('dry.strategies') }),
    rows.length ? rows.map((r) => r.element) : note(t('dry.noplugins'))),
  h('div', { class: 'buttons' }, submit),
  slot));
}

/** Polls one dry run until it is done or failed, showing its state, summary and report. */
async function follow(ctx, id, box, relist) {
  const state = h('div', { role: 'status', class: 'msg', text: t('dry.state.running') });
  const body = h('div', {});
  replace(box, panel(t('dry.one', { id }), state, body));
  for (;;) {
    if (!ctx.isCurrent()) return;
    let run;
    try {
      run = await api(`/api/v1/dry-runs/${seg(id)}`);
    } catch (error) {
      replace(state);
      replace(body, alertBox(error));
      return;
    }
    if (run.state === 'running') {
      state.textContent = t('dry.state.running');
      await new Promise((r) => setTimeout(r, POLL_MS));
      continue;
    }
    relist();
    if (run.state === 'failed') {
      state.className = 'msg';
      state.textContent = t('dry.state.failed');
      replace(body, alertBox({ message: run.error || t('failed') }));
      return;
    }
    state.className = 'msg ok';
    state.textContent = t('dry.state.done');
    const href = `/api/v1/dry-runs/${seg(id)}/report.html`;
    replace(body,
      summary(run.summary),
      h('p', { class: 'buttons' },
        h('a', { class: 'button primary', href, target: '_blank', rel: 'noopener', text: t('dry.open') })),
      // Same origin, no scripts: the report is static HTML and CSS.
      h('iframe', { class: 'report', src: href, title: t('dry.report'), sandbox: 'allow-same-origin', loading: 'lazy' }));
    return;
  }
}

/**
 * The simulation's totals per strategy (`summary.strategies`, as the report
 * counts them): runs, audience, decisions by status, members touched,
 * benefits. Any other shape is shown as JSON.
 */
function summary(s) {
  if (!s) return null;
  const per = isObject(s.strategies) ? s.strategies : null;
  if (!per) return h('pre', { class: 'json', text: JSON.stringify(s, null, 2) });
  const status = (name) => (x) => count(((x.by_status || {})[name]) || 0);
  const rows = Object.entries(per).map(([id, x]) => ({ id, ...x }));
  return h('div', {},
    s.runs !== undefined ? h('p', { class: 'meta', text: t('dry.instants', { n: count(s.runs) }) }) : null,
    table([
      { label: t('col.strategy'), cell: (x) => strategyLink(x.id) },
      { label: t('col.runs'), cell: (x) => count(x.runs), num: true },
      { label: t('col.failed'), cell: (x) => count(x.failed_runs), num: true },
      { label: t('col.audience'), cell: (x) => count(x.audience), num: true },
      { label: t('col.decisions'), cell: (x) => count(x.decisions), num: true },
      ...['dispatched', 'deferred', 'holdout', 'suppressed'].map((k) => ({ label: statusName(k), cell: status(k), num: true })),
      { label: t('col.members'), cell: (x) => count(x.members_touched), num: true },
      { label: t('col.benefits'), cell: (x) => yuan(x.benefit_fen), num: true },
    ], rows, { rowHeader: true }));
}

async function fillList(section) {
  try {
    const runs = await api('/api/v1/dry-runs');
    replace(section, h('h2', { text: t('dry.list') }), table([
      { label: t('col.id'), cell: (r) => h('a', { href: `#/dry-run/${encodeURIComponent(r.id)}`, text: r.id }) },
      { label: t('col.state'), cell: (r) => badge(t(`dry.${r.state}`, null, r.state), r.state === 'failed' ? 'bad' : r.state === 'done' ? 'good' : 'info') },
      { label: t('col.range'), cell: (r) => { const a = r.asked || r; return a.from ? `${a.from} – ${a.to}` : '–'; } },
      { label: t('col.strategies'), cell: (r) => { const a = r.asked || r; return Array.isArray(a.strategies) ? a.strategies.join(', ') : t('dry.allinstalled'); }, wrap: true },
      { label: t('col.at'), cell: (r) => when(r.started_at) },
      { label: t('col.report'), cell: (r) => (r.state === 'done' ? h('a', { href: `/api/v1/dry-runs/${seg(r.id)}/report.html`, target: '_blank', rel: 'noopener', text: t('dry.open') }) : '–') },
    ], Array.isArray(runs) ? runs : runs.dry_runs || [], { empty: t('dry.none') }));
  } catch (error) {
    replace(section, h('h2', { text: t('dry.list') }), alertBox(error));
  }
}
