// One member, looked up by id: profile, reach (and the do-not-contact mark,
// set or cleared here), facts, orders, events, every decision with its
// status and reason, deliveries.
// Calls: GET /api/v1/members/{id} (falls back to …/decisions on a server
// without it), POST|DELETE /api/v1/members/{id}/do-not-contact.

import { api, seg } from '../api.js';
import { alertBox, badge, facts, field, h, isObject, messageSlot, note, pageRoot, panel, replace, report, table } from '../dom.js';
import { compact, count, when, yuan } from '../format.js';
import { decisionsTable, millis } from '../decisions.js';
import { t } from '../i18n.js';

export async function render(ctx) {
  const id = ctx.param ? ctx.param.trim() : '';
  const search = searchForm(id);
  if (!id) return pageRoot('member', t('member.title'), search, note(t('member.prompt')));
  let data;
  try {
    data = await api(`/api/v1/members/${seg(id)}`);
  } catch (error) {
    if (!error.missingEndpoint) return pageRoot('member', t('member.titleof', { id }), search, alertBox(error));
    // A server without the member endpoint: its decisions at least.
    const decisions = await api(`/api/v1/members/${seg(id)}/decisions`).catch(() => null);
    return pageRoot('member', t('member.titleof', { id }), search, alertBox(error),
      decisions ? panel(t('member.decisions'), decisionsTable(decisions, { who: false })) : null);
  }
  const member = data.member || {};
  return pageRoot('member', member.name && member.name !== id ? `${member.name} · ${id}` : t('member.titleof', { id }),
    search,
    h('div', { class: 'columns' },
      panel(t('member.profile'), profile(member)),
      panel(t('member.reach'), reach(ctx, id, data.reach || {}))),
    data.facts ? panel(t('member.facts'), generic(data.facts)) : null,
    panel(t('member.decisions'), decisionsTable(data.decisions || [], { who: false, empty: t('member.nodecisions') })),
    panel(t('member.deliveries'), deliveriesTable(data.deliveries || [])),
    panel(t('member.orders'), recordsTable(data.orders || [], t('member.noorders'))),
    panel(t('member.events'),
      data.events_total > (data.events || []).length ? note(t('member.events.some', { n: count((data.events || []).length), total: count(data.events_total) })) : null,
      recordsTable(data.events || [], t('member.noevents'))));
}

function searchForm(id) {
  const input = h('input', { type: 'search', name: 'member-id', value: id, autocomplete: 'off', spellcheck: 'false', required: true });
  return h('form', {
    class: 'toolbar', role: 'search',
    onsubmit: (e) => {
      e.preventDefault();
      const v = input.value.trim();
      if (v) location.hash = `#/member/${encodeURIComponent(v)}`;
    },
  }, field(t('member.search.label'), input), h('button', { type: 'submit', class: 'primary', text: t('member.search.go') }));
}

/** A value of a record as people read it: money from fen, instants, JSON. */
function shown(key, value) {
  if (value === null || value === undefined || value === '') return '–';
  if (typeof value === 'number' && key.endsWith('_fen')) return yuan(value);
  if (typeof value === 'number' && (key.endsWith('_at') || key === 'at') && value > 1e11) return millis(value);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return when(value);
  if (typeof value === 'number') return Number.isInteger(value) ? count(value) : String(value);
  if (typeof value === 'string' && (key === 'attrs' || key === 'attributes')) {
    try {
      return compact(JSON.parse(value));
    } catch {
      return value;
    }
  }
  return compact(value);
}

/** The API's objects come with their keys sorted: people read a record in this order. */
const ORDER = ['id', 'name', 'level', 'birthday', 'joined_at', 'wecom_added_at', 'store_id', 'guide_id', 'timezone', 'tz',
  'at', 'placed_at', 'kind', 'amount_fen', 'amount', 'channel', 'category', 'sku', 'attrs'];

function ordered(keys) {
  const rank = (k) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
  return [...keys].sort((a, b) => rank(a) - rank(b));
}

function profile(member) {
  return facts(ordered(Object.keys(member)).map((k) => [t(`field.${k}`, null, k), shown(k, member[k])]));
}

function generic(value) {
  if (!isObject(value)) return h('code', { text: compact(value) });
  return facts(Object.entries(value).map(([k, v]) => [t(`field.${k}`, null, k), shown(k, v)]));
}

function reach(ctx, id, r) {
  const wecom = r.wecom || {};
  const channels = r.channels || {};
  const unreachable = r.unreachable || {};
  const dnc = Boolean(r.do_not_contact);
  const state = h('span', {}, dnc ? badge(t('member.dnc.on'), 'bad') : badge(t('member.dnc.off'), 'good'));
  const reason = h('input', { type: 'text', name: 'dnc-reason', disabled: ctx.readOnly });
  const slot = messageSlot();
  let on = dnc;
  const button = h('button', {
    type: 'button', class: on ? 'secondary' : 'danger-outline', disabled: ctx.readOnly,
    text: on ? t('member.dnc.clear') : t('member.dnc.set'),
    onclick: async () => {
      button.disabled = true;
      const method = on ? 'DELETE' : 'POST';
      const body = reason.value.trim() ? { reason: reason.value.trim() } : undefined;
      const answer = await report(slot, api(`/api/v1/members/${seg(id)}/do-not-contact`, { method, body }),
        (a) => (a.do_not_contact ? t('member.dnc.wasset', { at: when(a.at) }) : t('member.dnc.wascleared', { at: when(a.at) })));
      if (answer) {
        on = Boolean(answer.do_not_contact);
        replace(state, on ? badge(t('member.dnc.on'), 'bad') : badge(t('member.dnc.off'), 'good'));
        button.textContent = on ? t('member.dnc.clear') : t('member.dnc.set');
        button.className = on ? 'secondary' : 'danger-outline';
        reason.value = '';
      }
      button.disabled = ctx.readOnly;
    },
  });
  return h('div', {},
    facts([
      [t('member.asof'), r.at ? when(r.at) : null],
      [t('member.wecom'), wecom.state ? `${t(`wecom.${wecom.state}`, null, wecom.state)}${wecom.since ? ` · ${t('member.since', { at: when(wecom.since) })}` : ''}` : '–'],
      ...Object.entries(channels).map(([ch, v]) => [t('member.channel', { ch }), t(`consent.${v}`, null, v)]),
      ...Object.entries(unreachable).map(([ch, why]) => [t('member.unreachable', { ch }), h('span', { class: 'error-text', text: why })]),
      [t('member.unsubscribed'), r.unsubscribed_everywhere ? when(r.unsubscribed_everywhere) : null],
      [t('member.dnc'), state],
    ]),
    h('div', { class: 'toolbar' }, field(t('member.dnc.reason'), reason), button),
    slot);
}

function deliveriesTable(items) {
  return table([
    { label: t('col.key'), cell: (i) => h('code', { text: i.key }), wrap: true },
    { label: t('col.channel'), cell: (i) => i.channel },
    { label: t('col.state'), cell: (i) => badge(t(`outbox.st.${i.state}`, null, i.state), `state-${i.state}`) },
    { label: t('col.attempts'), cell: (i) => count(i.attempts), num: true },
    { label: t('col.due_at'), cell: (i) => when(i.due_at) },
    { label: t('col.error'), cell: (i) => i.last_error || '', wrap: true },
  ], items, { empty: t('member.nodeliveries') });
}

/** Orders or events: whatever fields the API gives, in its order, the member id left out. */
function recordsTable(rows, empty) {
  const keys = [];
  for (const r of rows) for (const k of Object.keys(r)) if (k !== 'member_id' && !keys.includes(k)) keys.push(k);
  // An amount given both in yuan and in fen is shown once, from the fen.
  if (keys.includes('amount_fen') && keys.includes('amount')) keys.splice(keys.indexOf('amount'), 1);
  return table(ordered(keys).map((k) => ({
    label: t(`field.${k}`, null, k),
    cell: (r) => shown(k, r[k]),
    num: rows.some((r) => typeof r[k] === 'number'),
    wrap: k === 'attrs' || k === 'attributes',
  })), rows, { empty });
}
