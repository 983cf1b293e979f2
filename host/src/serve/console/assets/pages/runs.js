// Runs: "run now" for a chosen strategy (or every one due), honouring the
// schedules unless forced after a <dialog> confirmation; the failures with
// their reason; the run history.
// Calls: GET /api/v1/plugins, GET /api/v1/runs, POST /api/v1/runs.

import { api, query } from '../api.js';
import { alertBox, badge, confirmDialog, field, h, loading, messageSlot, note, pageRoot, panel, replace, strategyLink, table } from '../dom.js';
import { count, duration, when } from '../format.js';
import { t } from '../i18n.js';

export async function render(ctx) {
  const plugins = await api('/api/v1/plugins').catch(() => []);
  const history = h('div', {}, loading());
  const failures = h('div', {}, loading());
  const filter = h('select', { name: 'strategy' },
    h('option', { value: '', text: t('runs.all') }),
    plugins.map((p) => h('option', { value: p.id, text: p.name ? `${p.name} (${p.id})` : p.id })));
  const load = async () => {
    replace(history, loading());
    try {
      const runs = await api(`/api/v1/runs${query({ strategy: filter.value, limit: 200 })}`);
      replace(history, runsTable(runs));
      const failed = runs.filter((r) => r.status === 'failed' || r.error);
      replace(failures, failed.length
        ? h('ul', { class: 'failures' }, failed.map((r) => h('li', {},
          h('strong', {}, strategyLink(r.strategy)), ` · ${when(r.run_at)} · `, h('span', { class: 'error-text', text: r.error || t('failed') }))))
        : note(t('runs.nofailures')));
    } catch (error) {
      replace(history, alertBox(error));
      replace(failures);
    }
  };
  filter.addEventListener('change', load);
  load();
  return pageRoot('runs', t('runs.title'),
    ctx.readOnly ? note(t('readonly.note')) : null,
    runNow(ctx, plugins, load),
    panel(t('runs.failures'), failures),
    panel(t('runs.history'), h('div', { class: 'toolbar' }, field(t('runs.filter'), filter)), history));
}

function runNow(ctx, plugins, reload) {
  const which = h('select', { name: 'run-strategy' },
    h('option', { value: '', text: t('runs.due') }),
    plugins.filter((p) => p.enabled).map((p) => h('option', { value: p.id, text: p.name ? `${p.name} (${p.id})` : p.id })));
  const force = h('input', { type: 'checkbox', name: 'force' });
  const slot = messageSlot();
  const out = h('div', {});
  const button = h('button', {
    type: 'submit', class: 'primary', text: t('runs.now'),
  });
  const form = h('form', {
    class: 'toolbar',
    onsubmit: async (e) => {
      e.preventDefault();
      const strategies = which.value ? [which.value] : null;
      if (force.checked) {
        const ok = await confirmDialog({
          title: t('runs.force.title'),
          body: strategies ? t('runs.force.one', { id: strategies[0] }) : t('runs.force.all'),
          confirm: t('runs.force.confirm'),
          danger: true,
        });
        if (!ok) return;
      }
      button.disabled = true;
      replace(slot, h('p', { class: 'loading', text: t('runs.running') }));
      replace(out);
      try {
        const body = { force: force.checked };
        if (strategies) body.strategies = strategies;
        const answer = await api('/api/v1/runs', { method: 'POST', body });
        const runs = answer.runs || [];
        replace(slot, h('div', { class: 'msg ok', role: 'status', text: runs.length ? t('runs.ran', { n: runs.length }) : t('runs.nonedue') }));
        if (runs.length) replace(out, runsTable(runs));
        reload();
      } catch (error) {
        replace(slot, alertBox(error));
      } finally {
        button.disabled = ctx.readOnly;
      }
    },
  }, field(t('runs.which'), which), field(t('runs.force'), force, t('runs.force.hint')), button);
  button.disabled = ctx.readOnly;
  force.disabled = ctx.readOnly;
  return panel(t('runs.now.title'), note(t('runs.now.note')), form, slot, out);
}

export function runsTable(runs) {
  return table([
    { label: t('col.run_at'), cell: (r) => when(r.run_at) },
    { label: t('col.strategy'), cell: (r) => strategyLink(r.strategy) },
    { label: t('col.trigger'), cell: (r) => t(`trigger.${r.trigger}`) },
    { label: t('col.status'), cell: (r) => (r.status === 'failed' ? badge(t('failed'), 'bad') : badge(t('completed'), 'good')) },
    { label: t('col.audience'), cell: (r) => count(r.audience), num: true },
    { label: t('col.decisions'), cell: (r) => count(r.decisions), num: true },
    { label: t('col.held_back'), cell: (r) => count(r.held_back), num: true },
    { label: t('col.failed_members'), cell: (r) => count(r.failed_members), num: true },
    { label: t('col.duration'), cell: (r) => duration(r.duration_ms), num: true },
    { label: t('col.version'), cell: (r) => r.plugin_version },
    { label: t('col.error'), cell: (r) => r.error || '', wrap: true },
  ], runs, { empty: t('runs.empty'), rowClass: (r) => (r.status === 'failed' ? 'failed' : null) });
}
