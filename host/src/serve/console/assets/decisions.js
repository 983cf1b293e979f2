// Decisions as the API shows them (a decisions.jsonl line: status, reason,
// benefit in yuan, send_at) in one table, for a member's page and a
// strategy's preview alike; and counts by status or reason as a table.

import { session } from './api.js';
import { badge, h, memberLink, strategyLink, table } from './dom.js';
import { count, yuanOfYuan, when } from './format.js';
import { actionName, statusName, t } from './i18n.js';

/** "¥30 coupon" / "¥30 优惠券 + birthday gift box". */
export function benefitText(b) {
  if (!b) return '–';
  const kind = t(`benefit.${b.kind}`);
  const value = b.kind === 'points' ? count(b.value) : yuanOfYuan(b.value);
  const main = b.value ? `${value} ${kind}` : kind;
  return b.gift ? `${main} + ${b.gift}` : main;
}

export function statusBadge(status) {
  return badge(statusName(status), `status-${status}`);
}

/** A table of decisions; `who` shows the member column, `which` the strategy column. */
export function decisionsTable(rows, { who = true, which = true, empty } = {}) {
  const columns = [
    { label: t('col.run_at'), cell: (d) => when(d.run_at) },
    which ? { label: t('col.strategy'), cell: (d) => strategyLink(d.strategy) } : null,
    who ? { label: t('col.member'), cell: (d) => memberLink(d.member_id) } : null,
    { label: t('col.step'), cell: (d) => d.step || '–' },
    { label: t('col.action'), cell: (d) => actionName(d.action) },
    { label: t('col.channel'), cell: (d) => d.channel || '–' },
    { label: t('col.benefit'), cell: (d) => (d.group_buy ? t('groupbuy', { sku: d.group_buy.sku, n: d.group_buy.group_size, price: yuanOfYuan(d.group_buy.price) }) : benefitText(d.benefit)) },
    { label: t('col.status'), cell: (d) => statusBadge(d.status) },
    { label: t('col.reason'), cell: (d) => d.reason || '–', wrap: true },
    { label: t('col.send_at'), cell: (d) => (d.send_at ? when(d.send_at) : '–') },
  ].filter(Boolean);
  return table(columns, rows, { empty: empty || t('none') });
}

/** {dispatched: 3, …} → a two-column table, largest first. */
export function countsTable(counts, { label, names = (k) => k } = {}) {
  const rows = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]);
  return table([
    { label, cell: ([k]) => names(k), wrap: true },
    { label: t('col.count'), cell: ([, n]) => count(n), num: true },
  ], rows, { empty: t('none') });
}

/** Milliseconds since the epoch → "YYYY-MM-DD HH:MM" in the brand's time zone (the session's). */
export function millis(ms) {
  if (ms === null || ms === undefined) return '–';
  try {
    const text = new Intl.DateTimeFormat('sv-SE', {
      timeZone: (session && session.time_zone) || undefined,
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).format(new Date(ms));
    return text.replace(',', '');
  } catch {
    return new Date(ms).toISOString();
  }
}
