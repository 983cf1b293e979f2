// The canvas: every strategy as a card, grouped by life-cycle stage in
// order (activation → … → service, unstaged last), from GET /api/v1/canvas.
// Without that endpoint (a server before it) the cards still show from
// GET /api/v1/plugins, unstaged, with the error said above them.

import { api } from '../api.js';
import { alertBox, badge, h, note, pageRoot, strategyLink } from '../dom.js';
import { count, when } from '../format.js';
import { loc, stageName, statusName, t } from '../i18n.js';

const STAGES = ['activation', 'retention', 'repurchase', 'upsell', 'referral', 'service'];
const STATUS_ORDER = ['dispatched', 'deferred', 'holdout', 'suppressed', 'failed'];

export async function render() {
  let canvas = null;
  let problem = null;
  try {
    canvas = await api('/api/v1/canvas');
  } catch (error) {
    problem = error;
    const plugins = await api('/api/v1/plugins');
    canvas = { stages: STAGES, strategies: plugins.map((p) => ({ ...p, stage: null, priority: null, next_run: null })) };
  }
  const stages = Array.isArray(canvas.stages) && canvas.stages.length ? canvas.stages : STAGES;
  const strategies = canvas.strategies || [];
  const groups = stages.map((stage) => ({ stage, items: strategies.filter((s) => s.stage === stage) }));
  const unstaged = strategies.filter((s) => !s.stage || !stages.includes(s.stage));
  const byPriority = (a, b) => (a.priority ?? 1e9) - (b.priority ?? 1e9) || String(a.id).localeCompare(String(b.id));

  const enabled = strategies.filter((s) => s.enabled).length;
  const meta = [
    t('canvas.meta', { n: count(strategies.length), enabled: count(enabled) }),
    canvas.now ? t('canvas.now', { now: when(canvas.now), tz: canvas.time_zone || '' }) : null,
  ].filter(Boolean).join(' · ');

  return pageRoot('canvas', t('canvas.title'),
    h('p', { class: 'meta', text: meta }),
    problem ? alertBox(problem) : null,
    h('ol', { class: 'flow', 'aria-label': t('canvas.flow') },
      stages.map((stage, i) => h('li', {}, h('a', { href: `#stage-${stage}`, onclick: jump(stage) },
        h('span', { class: 'step-no', text: String(i + 1) }), stageName(stage),
        h('span', { class: 'step-count', text: count(groups[i].items.length) }))))),
    h('div', { class: 'lanes' },
      groups.map(({ stage, items }) => stageSection(stage, stageName(stage), items.sort(byPriority))),
      unstaged.length ? stageSection('none', t('stage.none'), unstaged.sort(byPriority)) : null));
}

/** In-page links with a hash router: scroll to the stage instead of changing route. */
function jump(stage) {
  return (e) => {
    e.preventDefault();
    const target = document.getElementById(`stage-${stage}`);
    if (target) {
      target.scrollIntoView({ behavior: 'smooth', block: 'start' });
      target.querySelector('h2').focus({ preventScroll: true });
    }
  };
}

function stageSection(stage, title, items) {
  return h('section', { class: `stage stage-${stage}`, id: `stage-${stage}`, 'aria-labelledby': `stage-h-${stage}` },
    h('h2', { id: `stage-h-${stage}`, tabindex: '-1' }, title, h('span', { class: 'lane-count', text: count(items.length) })),
    items.length ? h('ul', { class: 'cards' }, items.map((s) => h('li', {}, card(s)))) : note(t('canvas.stage.empty')));
}

function card(s) {
  const audience = s.audience ? loc(s.audience) : null;
  const benefit = s.benefit ? loc(s.benefit) : null;
  const steps = Array.isArray(s.steps) ? s.steps : [];
  const last = s.last_run;
  const status = s.enabled ? badge(t('enabled'), 'good') : badge(s.off || t('disabled'), 'muted');
  return h('article', { class: `card strategy-card${s.enabled ? '' : ' off'}`, 'data-strategy': s.id },
    h('header', {},
      h('h3', {}, strategyLink(s.id, s.name || s.id)),
      h('div', { class: 'badges' },
        s.priority ? badge(t('canvas.priority', { n: s.priority }), 'info') : null,
        status)),
    h('p', { class: 'card-id' }, h('code', { text: s.id }), s.version ? ` · v${s.version}` : null),
    h('dl', { class: 'card-facts' },
      row(t('canvas.audience'), audience && audience.length
        ? clauses(Array.isArray(audience) ? audience : [audience])
        : s.audience_error ? h('span', { class: 'error-text', text: s.audience_error }) : t('dash')),
      steps.length ? row(t('canvas.steps'), h('span', { class: 'chips' }, steps.map((x) => h('span', { class: 'chip', text: x })))) : null,
      row(t('canvas.schedule'), h('span', {}, s.schedule ? h('code', { text: s.schedule }) : t('canvas.on-triggers'),
        s.next_run ? ` · ${t('canvas.next', { at: when(s.next_run) })}` : null,
        s.waiting_firings ? ` · ${t('canvas.waiting', { n: s.waiting_firings.count, at: when(s.waiting_firings.next_due) })}` : null)),
      benefit ? row(t('canvas.benefit'), benefit) : null,
      row(t('canvas.last'), last ? lastRun(last) : t('canvas.never'))));
}

/** An audience's clauses (any one selects a member); a long list folds after the first few. */
export function clauses(list) {
  const SHOWN = 3;
  const item = (c) => h('li', { text: c });
  if (list.length <= SHOWN + 1) return h('ul', { class: 'clauses' }, list.map(item));
  return h('div', {},
    h('ul', { class: 'clauses' }, list.slice(0, SHOWN).map(item)),
    h('details', { class: 'more' },
      h('summary', { text: t('canvas.more', { n: count(list.length - SHOWN) }) }),
      h('ul', { class: 'clauses' }, list.slice(SHOWN).map(item))));
}

function row(term, value) {
  return [h('dt', { text: term }), h('dd', {}, value)];
}

function lastRun(last) {
  const failed = last.outcome === 'failed' || last.error;
  const byStatus = last.by_status || {};
  const chips = STATUS_ORDER.filter((k) => byStatus[k]).map((k) =>
    h('span', { class: `chip status-${k}` }, `${statusName(k)} ${count(byStatus[k])}`));
  return h('div', { class: 'last-run' },
    h('span', {}, when(last.at), last.trigger ? ` · ${t(`trigger.${last.trigger}`)}` : null),
    failed ? h('div', { class: 'error-text', text: `${t('failed')}: ${last.error || ''}` }) : null,
    h('div', { class: 'counts' },
      t('canvas.lastcounts', { selected: count(last.selected), decisions: count(last.decisions) })),
    chips.length ? h('div', { class: 'chips' }, chips) : null);
}
