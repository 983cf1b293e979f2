// One run as a strategy sees it (`Run`), the brand calendar (a day is a local
// date as days since 1970-01-01, computed by the host in the brand's time
// zone), and read helpers on the member facts the host passes in, as the Rust
// SDK's methods (`member.events_of` is `eventsOf(member, kind)` here).

const MS_PER_DAY = 86_400_000;

/** A JSON value as serde_json prints it: compact, object keys sorted. */
function canonicalJson(v) {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** An event's attribute as text: a string as is, any other JSON value as
 *  compact JSON (keys sorted), as the Rust SDK; undefined without it. */
export function attr(event, key) {
  let attrs;
  try {
    attrs = JSON.parse(event.attrs);
  } catch {
    return undefined;
  }
  if (attrs === null || typeof attrs !== 'object' || Array.isArray(attrs) || !Object.hasOwn(attrs, key)) return undefined;
  const value = attrs[key];
  return typeof value === 'string' ? value : canonicalJson(value);
}

/** One run: the host's clock, the brand calendar's date, the effective config,
 *  the recent launches and, for a triggered call, the event that triggered it. */
export class Run {
  constructor(context, config) {
    this.runAt = context.runAt;
    this.today = context.today;
    this.date = context.date;
    this.timezone = context.timezone;
    this.config = config;
    this.launches = context.launches ?? [];
    this.trigger = context.trigger ?? undefined;
  }
  /** The triggering event's attribute `key` as text; undefined in a scheduled run. */
  triggerAttr(key) {
    return this.trigger === undefined ? undefined : attr(this.trigger, key);
  }
  /** Whole days from `day` to the run date (0 on the run date itself). */
  daysSince(day) {
    return this.today - day;
  }
  /** Whole minutes from the instant `at` (a BigInt) to the run instant, rounded down. */
  minutesSince(at) {
    const ms = BigInt(this.runAt) - BigInt(at);
    const q = ms / 60000n;
    return Number(ms % 60000n < 0n ? q - 1n : q);
  }
  /** Whether the run date is `date`'s anniversary (29 Feb → 28 Feb in common years). */
  isAnniversaryOf(date) {
    const a = anniversaryIn(date, this.date.year);
    return a.month === this.date.month && a.day === this.date.day;
  }
  /** Whether `day` lies in the last `days` days (as `within(days)`). */
  isWithin(day, days) {
    const ago = this.daysSince(day);
    return ago >= 0 && ago < Math.max(days, 1);
  }
}

// ---- the brand calendar ----

/** The calendar date of a day number. */
export function dateOf(day) {
  const d = new Date(day * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
/** The day number of a date. */
export const dayOf = ({ year, month, day }) => Math.round(Date.UTC(year, month - 1, day) / MS_PER_DAY);
export const isLeapYear = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
export const daysInMonth = (y, m) => ([4, 6, 9, 11].includes(m) ? 30 : m === 2 ? (isLeapYear(y) ? 29 : 28) : 31);
/** The anniversary of `date` in `year`; a 29 February falls on 28 February in common years. */
export const anniversaryIn = (date, year) => ({ year, month: date.month, day: Math.min(date.day, daysInMonth(year, date.month)) });
/** Whole years from `since` to `on` (an age, or years of membership). */
export function wholeYears(since, on) {
  const a = anniversaryIn(since, on.year);
  return on.year - since.year - (on.month < a.month || (on.month === a.month && on.day < a.day) ? 1 : 0);
}

// ---- the member ----

/** This strategy's earlier decisions for the member at `step`, oldest first. */
export const decisionsAt = (member, step) => member.history.filter((d) => d.step === step);
/** Dispatched, or deferred and so still to be sent. */
export const wasSent = (d) => d.status === 'dispatched' || d.status === 'deferred';
/** Sent, or deliberately withheld from a control-group member. */
export const hadTurn = (d) => wasSent(d) || d.status === 'holdout';
/** The latest earlier decision at `step` that was sent. */
export const lastSent = (member, step) => member.history.findLast((d) => d.step === step && wasSent(d));
export const wasDecided = (member, step) => member.history.some((d) => d.step === step);
/** A template variable an earlier decision carried. */
export const decisionVar = (d, key) => d.variables.find(([k]) => k === key)?.[1];
/** The member's events of `kind` (asked for in the audience), oldest first. */
export const eventsOf = (member, kind) => member.events.filter((e) => e.kind === kind);
/** The day the current WeCom friendship began; undefined when not a friend now. */
export const wecomFriendSince = (member) => (member.reach.wecom.tag === 'friend' ? member.reach.wecom.val.day : undefined);
/** The stats of an order window the audience asked for (`withOrderWindows`). */
export const spendWindow = (member, days) => member.orders.windows.find((w) => w.days === days);
/** The category bought most often (ties: the most recent, then by name). */
export const favouriteCategory = (member) => member.orders.categories[0];
export const hasBought = (member, category) => member.orders.categories.some((c) => c.category === category);
/** Whether the member's own say lets `channel` reach them (not do-not-contact, not unsubscribed). */
export function consentsTo(member, channel) {
  const { reach } = member;
  if (reach.doNotContact !== undefined) return false;
  const own = reach.channels.find((c) => c.channel === channel);
  return own ? own.consents : reach.unsubscribedEverywhere === undefined;
}
