// Outbox: the backlog per channel (due, later, rate, drain time, a pause a
// receiver asked for), the dead letters with their error and a redrive (of
// those picked, or all) after a <dialog> confirmation, and the entries of
// one state on demand (the whole outbox can be large: not loaded unasked).
// Calls: GET /api/v1/outbox/status, /dead-letters, /outbox?state=; POST /dead-letters/redrive.

import { api, query } from '../api.js';
import { alertBox, badge, confirmDialog, field, h, loading, messageSlot, note, pageRoot, panel, replace, report, table } from '../dom.js';
import { count, seconds, when } from '../format.js';
import { t } from '../i18n.js';

const SHOWN = 500;

export async function render(ctx) {
  const backlog = panel(t('outbox.backlog'), loading());
  const dead = panel(t('outbox.dead'), loading());
  const entries = panel(t('outbox.entries'), entriesControls());
  const reload = () => {
    fillBacklog(backlog);
    fillDead(ctx, dead, reload);
  };
  reload();
  return pageRoot('outbox', t('outbox.title'), ctx.readOnly ? note(t('readonly.note')) : null, backlog, dead, entries);
}

async function fillBacklog(section) {
  try {
    const channels = await api('/api/v1/outbox/status');
    replace(section, h('h2', { text: t('outbox.backlog') }), table([
      { label: t('col.channel'), cell: (c) => c.channel },
      { label: t('outbox.due'), cell: (c) => count(c.due), num: true },
      { label: t('outbox.later'), cell: (c) => count(c.later), num: true },
      { label: t('outbox.rate'), cell: (c) => (c.rate_per_minute ? t('outbox.perminute', { n: count(c.rate_per_minute) }) : t('outbox.norate')), num: true },
      { label: t('outbox.drains'), cell: (c) => (c.due ? seconds(c.drains_in_seconds) : t('outbox.nothingdue')), num: true },
      { label: t('outbox.paused'), cell: (c) => (c.paused_until ? badge(t('outbox.pausedtill', { at: when(c.paused_until) }), 'warn') : '–') },
    ], channels, { empty: t('outbox.empty') }));
  } catch (error) {
    replace(section, h('h2', { text: t('outbox.backlog') }), alertBox(error));
  }
}

async function fillDead(ctx, section, reload) {
  let letters;
  try {
    letters = await api('/api/v1/dead-letters');
  } catch (error) {
    replace(section, h('h2', { text: t('outbox.dead') }), alertBox(error));
    return;
  }
  const slot = messageSlot();
  const picks = new Map();
  const rows = letters.slice(0, SHOWN);
  const redrive = async (keys) => {
    const ok = await confirmDialog({
      title: t('outbox.redrive.title'),
      body: keys ? t('outbox.redrive.some', { n: count(keys.length) }) : t('outbox.redrive.all', { n: count(letters.length) }),
      confirm: t('outbox.redrive'),
    });
    if (!ok) return;
    const done = await report(slot, api('/api/v1/dead-letters/redrive', { method: 'POST', body: keys ? { keys } : {} }),
      (a) => t('outbox.redriven', { n: count(a.redriven) }));
    if (done) setTimeout(reload, 600);
  };
  const some = h('button', {
    type: 'button', class: 'primary', disabled: true, text: t('outbox.redrive.picked'),
    onclick: () => redrive([...picks.entries()].filter(([, box]) => box.checked).map(([k]) => k)),
  });
  const all = h('button', { type: 'button', class: 'secondary', disabled: ctx.readOnly || !letters.length, text: t('outbox.redrive.everything'), onclick: () => redrive(null) });
  const update = () => { some.disabled = ctx.readOnly || ![...picks.values()].some((b) => b.checked); };
  replace(section,
    h('h2', { text: `${t('outbox.dead')} (${count(letters.length)})` }),
    table([
      {
        label: t('outbox.pick'),
        cell: (l) => {
          const box = h('input', { type: 'checkbox', 'aria-label': t('outbox.pick.one', { key: l.key }), disabled: ctx.readOnly, onchange: update });
          picks.set(l.key, box);
          return box;
        },
      },
      { label: t('col.key'), cell: (l) => h('code', { text: l.key }), wrap: true },
      { label: t('col.channel'), cell: (l) => l.channel },
      { label: t('col.attempts'), cell: (l) => count(l.attempts), num: true },
      { label: t('col.due_at'), cell: (l) => when(l.due_at) },
      { label: t('col.error'), cell: (l) => h('span', { class: 'error-text', text: l.last_error || '–' }), wrap: true },
    ], rows, { empty: t('outbox.nodead') }),
    letters.length > SHOWN ? note(t('outbox.more', { n: count(SHOWN), total: count(letters.length) })) : null,
    letters.length ? h('div', { class: 'buttons' }, all, some) : null,
    slot);
}

function entriesControls() {
  const state = h('select', { name: 'state' },
    ['pending', 'delivered', 'dead', 'cancelled'].map((s) => h('option', { value: s, text: t(`outbox.st.${s}`) })));
  const out = h('div', {});
  const show = h('button', {
    type: 'button', class: 'secondary', text: t('outbox.show'),
    onclick: async () => {
      replace(out, loading());
      try {
        const items = await api(`/api/v1/outbox${query({ state: state.value })}`);
        replace(out,
          table([
            { label: t('col.key'), cell: (i) => h('code', { text: i.key }), wrap: true },
            { label: t('col.channel'), cell: (i) => i.channel },
            { label: t('col.attempts'), cell: (i) => count(i.attempts), num: true },
            { label: t('col.due_at'), cell: (i) => when(i.due_at) },
            { label: t('col.error'), cell: (i) => i.last_error || '', wrap: true },
          ], items.slice(0, SHOWN), { empty: t('none') }),
          items.length > SHOWN ? note(t('outbox.more', { n: count(SHOWN), total: count(items.length) })) : null);
      } catch (error) {
        replace(out, alertBox(error));
      }
    },
  });
  return [h('div', { class: 'toolbar' }, field(t('outbox.state'), state), show), out];
}
