// One strategy: enable/disable, its config as a form (saved with PUT
// …/config: the operator's keys with the changed leaves laid over them,
// since the API replaces the operator's keys; the plugin's refusal shown
// inline), preview with no side effect, priority and governance, versions
// with rollback, and its audit trail.
// Calls: GET /plugins/{id}, /canvas, /governance, /audit; POST enable,
// disable, rollback, preview; PUT config.

import { api, seg } from '../api.js';
import {
  alertBox, badge, confirmDialog, facts, h, loading, messageSlot, note, pageRoot, panel, replace, report, table,
} from '../dom.js';
import { compact, count, when } from '../format.js';
import { countsTable, decisionsTable, millis } from '../decisions.js';
import { loc, stageName, statusName, t } from '../i18n.js';
import { clauses } from './canvas.js';
import { configForm, deepMerge } from './config-form.js';

export async function render(ctx) {
  const id = ctx.param;
  const details = await api(`/api/v1/plugins/${seg(id)}`);
  const plugin = details.plugin || {};
  const root = pageRoot('strategy', plugin.name || id,
    h('p', { class: 'meta' },
      h('a', { href: '#/', text: t('nav.canvas') }), ' › ', h('code', { text: id }),
      ` · v${plugin.version} · API ${plugin.api_version}`),
    details.description ? h('p', { class: 'lead', text: details.description }) : null);
  if (ctx.readOnly) root.appendChild(note(t('readonly.note')));
  root.appendChild(enablePanel(ctx, id, plugin));
  const columns = h('div', { class: 'columns' });
  const side = h('div', { class: 'side' }, loading());
  columns.append(configPanel(ctx, id, details), side);
  root.appendChild(columns);
  root.appendChild(previewPanel(ctx, id));
  root.appendChild(versionsPanel(ctx, id, details));
  const audit = panel(t('strategy.audit'), loading());
  root.appendChild(audit);
  fillSide(side, id, details);
  fillAudit(audit, id);
  return root;
}

function enablePanel(ctx, id, plugin) {
  const slot = messageSlot();
  const state = h('span', {}, plugin.enabled ? badge(t('enabled'), 'good') : badge(plugin.off || t('disabled'), 'muted'));
  const button = h('button', {
    type: 'button', class: plugin.enabled ? 'secondary' : 'primary', disabled: ctx.readOnly,
    text: plugin.enabled ? t('strategy.disable') : t('strategy.enable'),
    onclick: async () => {
      const action = plugin.enabled ? 'disable' : 'enable';
      button.disabled = true;
      const summary = await report(slot, api(`/api/v1/plugins/${seg(id)}/${action}`, { method: 'POST' }),
        (s) => (s.enabled ? t('strategy.enabled.now') : t('strategy.disabled.now')));
      if (summary) {
        plugin.enabled = summary.enabled;
        plugin.off = summary.off;
        replace(state, summary.enabled ? badge(t('enabled'), 'good') : badge(summary.off || t('disabled'), 'muted'));
        button.textContent = summary.enabled ? t('strategy.disable') : t('strategy.enable');
        button.className = summary.enabled ? 'secondary' : 'primary';
      }
      button.disabled = ctx.readOnly;
    },
  });
  return h('div', { class: 'actions-bar' }, h('span', { class: 'label', text: t('strategy.state') }), state, button, slot);
}

function configPanel(ctx, id, details) {
  const form = configForm(details.default_config, details.effective_config, { readOnly: ctx.readOnly });
  const slot = messageSlot();
  const save = h('button', { type: 'submit', class: 'primary', disabled: ctx.readOnly, text: t('config.save') });
  const element = h('form', {
    class: 'config', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      const { changed, errors } = form.changes();
      if (errors.length) {
        replace(slot, alertBox({ message: t('config.unreadable'), details: errors }));
        return;
      }
      if (!Object.keys(changed).length) {
        replace(slot, h('div', { class: 'msg ok', role: 'status', text: t('config.unchanged') }));
        return;
      }
      save.disabled = true;
      // The API replaces the operator's keys: keep those set before, lay the changes over them.
      const body = deepMerge(details.config || {}, changed);
      const answer = await report(slot, api(`/api/v1/plugins/${seg(id)}/config`, { method: 'PUT', body }), () => t('config.saved'));
      save.disabled = false;
      // The page again (defaults, card, audit trail changed), the message with it.
      if (answer) ctx.rerender({ flash: t('config.saved') });
    },
  },
  form.element,
  h('div', { class: 'buttons' }, save,
    h('button', { type: 'reset', class: 'secondary', disabled: ctx.readOnly, text: t('config.reset'), onclick: () => replace(slot) })),
  slot);
  // The preview tries the unsaved changes: it finds the form through this.
  element.readChanges = () => {
    const { changed, errors } = form.changes();
    return { errors, config: Object.keys(changed).length ? deepMerge(details.config || {}, changed) : null };
  };
  return panel(t('strategy.config'), note(t('strategy.config.note')), element);
}

async function fillSide(side, id, details) {
  const [canvas, governance] = await Promise.allSettled([api('/api/v1/canvas'), api('/api/v1/governance')]);
  const parts = [];
  if (canvas.status === 'fulfilled') {
    const s = (canvas.value.strategies || []).find((x) => x.id === id) || {};
    parts.push(panel(t('strategy.overview'), facts([
      [t('canvas.stage'), s.stage ? stageName(s.stage) : t('stage.none')],
      [t('canvas.priority.label'), s.priority ? `#${s.priority}` : t('strategy.unranked')],
      [t('canvas.schedule'), h('code', { text: s.schedule || details.schedule || '–' })],
      [t('canvas.nextrun'), s.next_run ? when(s.next_run) : '–'],
      [t('canvas.audience'), s.audience ? clauses(loc(s.audience)) : s.audience_error ? h('span', { class: 'error-text', text: s.audience_error }) : null],
      [t('canvas.steps'), s.steps && s.steps.length ? s.steps.join(' · ') : null],
      [t('canvas.benefit'), s.benefit ? loc(s.benefit) : null],
    ])));
  } else {
    parts.push(panel(t('strategy.overview'), facts([[t('canvas.schedule'), h('code', { text: details.schedule || '–' })]]), alertBox(canvas.reason)));
  }
  if (governance.status === 'fulfilled') {
    parts.push(panel(t('strategy.governance'), governanceFacts(governance.value.policy || {}, id)));
  } else {
    parts.push(panel(t('strategy.governance'), alertBox(governance.reason)));
  }
  replace(side, parts);
}

/** What the effective [governance] says of this strategy: its place in the priority list, exemptions, overrides. */
function governanceFacts(policy, id) {
  const priority = Array.isArray(policy.priority) ? policy.priority : [];
  const rank = priority.indexOf(id);
  const exempt = Array.isArray(policy.exempt_from_caps) ? policy.exempt_from_caps.includes(id) : null;
  const pairs = [
    [t('gov.priority'), rank >= 0 ? t('gov.rank', { n: rank + 1, of: priority.length }) : t('strategy.unranked')],
    [t('gov.exempt'), exempt === null ? null : exempt ? t('yes') : t('no')],
    [t('gov.holdout'), policy.holdout_percent !== undefined ? `${policy.holdout_percent}%` : null],
  ];
  // canvas.toml's [strategies.<id>] overrides of the policy, each one set.
  const own = policy.strategies && typeof policy.strategies === 'object' ? policy.strategies[id] : null;
  for (const [key, value] of Object.entries(own || {})) {
    if (value === null || value === undefined || (Array.isArray(value) && !value.length)) continue;
    pairs.push([t(`gov.set.${key}`, null, key), compact(value)]);
  }
  // Any other section keyed by strategy id that names this one.
  for (const [key, value] of Object.entries(policy)) {
    if (key !== 'strategies' && value && typeof value === 'object' && !Array.isArray(value) && id in value) {
      pairs.push([t('gov.override', { key }), h('code', { class: 'wrap', text: compact(value[id]) })]);
    }
  }
  return facts(pairs);
}

function previewPanel(ctx, id) {
  const out = h('div', { class: 'preview-out' });
  const unsaved = h('input', { type: 'checkbox', id: 'preview-unsaved' });
  // A preview changes nothing: a read-only session may make one too.
  const button = h('button', {
    type: 'button', class: 'primary', text: t('preview.run'),
    onclick: async () => {
      const form = document.querySelector('form.config');
      let body = {};
      if (unsaved.checked && form && form.readChanges) {
        const { errors, config } = form.readChanges();
        if (errors.length) {
          replace(out, alertBox({ message: t('config.unreadable'), details: errors }));
          return;
        }
        if (config) body = { config };
      }
      button.disabled = true;
      replace(out, loading());
      try {
        const p = await api(`/api/v1/plugins/${seg(id)}/preview`, { method: 'POST', body });
        replace(out, previewResult(p));
      } catch (error) {
        replace(out, alertBox(error));
      } finally {
        button.disabled = false;
      }
    },
  });
  return panel(t('preview.title'), note(t('preview.note')),
    h('div', { class: 'buttons' }, button, h('span', { class: 'field check' }, unsaved, h('label', { for: 'preview-unsaved', text: t('preview.unsaved') }))),
    out);
}

function previewResult(p) {
  const kpi = (n, label) => (n === undefined || n === null ? null : h('div', { class: 'kpi' }, h('b', { text: count(n) }), h('span', { text: label })));
  return h('div', {},
    h('div', { role: 'status', class: 'msg ok', text: t('preview.summary', { at: when(p.at), n: count(p.audience) }) }),
    p.outcome ? alertBox({ message: p.outcome }) : null,
    h('div', { class: 'kpis' },
      kpi(p.audience, t('preview.audience')),
      kpi(p.already_decided, t('preview.already')),
      kpi(p.held_back, t('preview.heldback')),
      Object.entries(p.by_status || {}).map(([k, n]) => h('div', { class: `kpi status-${k}` }, h('b', { text: count(n) }), h('span', { text: statusName(k) })))),
    h('div', { class: 'columns even' },
      h('div', {}, h('h3', { text: t('preview.bystatus') }), countsTable(p.by_status, { label: t('col.status'), names: statusName })),
      h('div', {}, h('h3', { text: t('preview.byreason') }), countsTable(p.by_reason, { label: t('col.reason') }))),
    h('h3', { text: t('preview.sample', { n: count((p.sample || []).length) }) }),
    decisionsTable(p.sample || [], { which: false }));
}

function versionsPanel(ctx, id, details) {
  const slot = messageSlot();
  const versions = [...(details.versions || [])].reverse();
  const previous = details.previously_active || [];
  const rollback = h('button', {
    type: 'button', class: 'secondary', disabled: ctx.readOnly || !previous.length, text: t('versions.rollback'),
    onclick: async () => {
      const ok = await confirmDialog({ title: t('versions.confirm.title'), body: t('versions.confirm.body', { id }), confirm: t('versions.rollback'), danger: true });
      if (!ok) return;
      const done = await report(slot, api(`/api/v1/plugins/${seg(id)}/rollback`, { method: 'POST' }), (s) => t('versions.rolledback', { version: s.version }));
      if (done) ctx.rerender({ flash: t('versions.rolledback', { version: done.version }) });
    },
  });
  return panel(t('versions.title'),
    table([
      { label: t('col.version'), cell: (v) => v.version },
      { label: t('col.state'), cell: (v) => (v.sha256 === details.active ? badge(t('versions.active'), 'good') : previous.includes(v.sha256) ? t('versions.previous') : '') },
      { label: 'sha256', cell: (v) => h('code', { title: v.sha256, text: String(v.sha256 || '').slice(0, 16) }) },
      { label: 'API', cell: (v) => v.api_version },
      { label: t('col.schedule'), cell: (v) => h('code', { text: v.schedule || '–' }) },
      { label: t('col.size'), cell: (v) => (v.size_bytes ? `${count(Math.round(v.size_bytes / 1024))} KiB` : '–'), num: true },
      { label: t('col.installed'), cell: (v) => millis(v.installed_at) },
    ], versions),
    h('div', { class: 'buttons' }, rollback, previous.length ? null : h('span', { class: 'note', text: t('versions.none') })),
    slot);
}

async function fillAudit(section, id) {
  try {
    const entries = await api(`/api/v1/audit?target=${seg(id)}&limit=500`);
    // The API may list every change: keep this strategy's (a run's target lists the strategies it ran).
    const mine = entries.filter((e) => e.target === id || String(e.target).split(',').includes(id));
    replace(section, h('h2', { text: t('strategy.audit') }), table([
      { label: t('col.at'), cell: (e) => when(e.at) },
      { label: t('col.actor'), cell: (e) => e.actor },
      { label: t('col.action'), cell: (e) => t(`audit.${e.action}`, null, e.action) },
      { label: t('col.before'), cell: (e) => h('code', { text: compact(e.before) }), wrap: true },
      { label: t('col.after'), cell: (e) => h('code', { text: compact(e.after) }), wrap: true },
    ], mine, { empty: t('audit.empty') }));
  } catch (error) {
    replace(section, h('h2', { text: t('strategy.audit') }), alertBox(error));
  }
}
