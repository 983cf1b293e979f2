// Plain-JavaScript fixtures for unit-testing a strategy under Node (no
// component build), as the Rust SDK's `canvas_sdk::testing`:
//
//   import { runOn, member, day } from '../../sdk-js/testing.js';
//   const run = runOn(2026, 3, 1, strategy.core.configOf('{}'));
//   const m = member('m1').level(3).ordered(day(2025, 12, 1), 299, 'dress').build(run);
//   assert.equal(strategy.core.decideMember(run, m).length, 1);
//
// Instants (BigInts) are placed at 10:00 in Asia/Shanghai (02:00 UTC) of their day.

import { Run, dateOf, dayOf } from './run.js';

const MS_PER_DAY = 86_400_000n;
const TEN_IN_SHANGHAI = 2n * 3_600_000n;

export const day = (year, month, date) => dayOf({ year, month, day: date });
/** 10:00 in Shanghai on the day, as a BigInt instant. */
export const instantOn = (d) => BigInt(d) * MS_PER_DAY + TEN_IN_SHANGHAI;
/** The Shanghai day (UTC+8, no daylight saving) of an instant. */
export function localDay(at) {
  const ms = BigInt(at) + 8n * 3_600_000n;
  const q = ms / MS_PER_DAY;
  return Number(ms % MS_PER_DAY < 0n ? q - 1n : q);
}
const moment = (d) => ({ at: instantOn(d), day: d });

/** The run context the host would pass at `runAt` with this raw config. */
export function contextAt(runAt, config = '{}', { trigger = undefined, launches = [] } = {}) {
  const today = localDay(runAt);
  return { runAt: BigInt(runAt), today, date: dateOf(today), timezone: 'Asia/Shanghai', config, launches, trigger };
}

/** A scheduled run at 10:00 on the date with `config` (already parsed). */
export const runOn = (year, month, date, config) => new Run(contextAt(instantOn(day(year, month, date))), config);

/** A triggered call: at the event's instant plus `delayMinutes`, told of the event. */
export function triggeredBy(config, kind, at, attrs, delayMinutes) {
  const trigger = { id: `${kind}-${at}`, kind, at: BigInt(at), day: localDay(at), attrs };
  return new Run(contextAt(BigInt(at) + BigInt(delayMinutes) * 60_000n, '{}', { trigger }), config);
}

/** A product launched on the day `launched`, at 299 yuan. */
export const product = (sku, category, launched, tags = []) => ({
  sku, name: `${category} ${sku}`, category, price: 29_900n, launchedAt: instantOn(launched), launchedDay: launched, tags,
});

class MemberBuilder {
  constructor(id) {
    const joined = day(2024, 1, 1);
    this.profile = {
      id, name: `Member ${id}`, level: 1, birthday: undefined, joinedAt: instantOn(joined), joinedDay: joined,
      wecomAddedAt: undefined, wecomAddedDay: undefined, storeId: 'S001', guideId: 'G001', timezone: undefined,
    };
    this.orders = [];
    this.events = [];
    this.history = [];
    this.reach = { wecom: { tag: 'never' }, unsubscribedEverywhere: undefined, channels: [], doNotContact: undefined };
  }
  level(level) { this.profile.level = level; return this; }
  birthday(year, month, date) { this.profile.birthday = { year, month, day: date }; return this; }
  joined(d) { Object.assign(this.profile, { joinedAt: instantOn(d), joinedDay: d }); return this; }
  guide(guideId) { this.profile.guideId = guideId; return this; }
  /** Became a WeCom friend (again) on the day. */
  wecomAdded(d) {
    Object.assign(this.profile, { wecomAddedAt: instantOn(d), wecomAddedDay: d });
    this.reach.wecom = { tag: 'friend', val: moment(d) };
    return this;
  }
  /** Deleted the brand on WeCom (删粉) on the day: no longer a friend. */
  wecomDeleted(d) {
    Object.assign(this.profile, { wecomAddedAt: undefined, wecomAddedDay: undefined });
    this.reach.wecom = { tag: 'deleted', val: moment(d) };
    return this;
  }
  /** Unsubscribed on the day from `channel`, or from every channel (undefined). */
  unsubscribed(channel, d) {
    if (channel === undefined) Object.assign(this.reach, { unsubscribedEverywhere: moment(d), channels: [] });
    else {
      this.reach.channels = this.reach.channels.filter((c) => c.channel !== channel);
      this.reach.channels.push({ channel, consents: false, since: moment(d) });
    }
    return this;
  }
  doNotContact(d) { this.reach.doNotContact = moment(d); return this; }
  /** An order on the day of `yuan` in `category`. */
  ordered(d, yuan, category) {
    this.orders.push({ day: d, amount: BigInt(Math.sign(yuan) * Math.round(Math.abs(yuan) * 100)), category });
    return this;
  }
  /** An event of `kind` at the instant `at` with JSON `attrs`. */
  event(kind, at, attrs = '{}') {
    this.events.push({ id: `${this.profile.id}-e${this.events.length + 1}`, kind, at: BigInt(at), day: localDay(at), attrs });
    return this;
  }
  /** An earlier decision of the strategy under test, at 10:00 on the day. */
  decided(step, kind, status, d, { benefit = undefined, variables = {} } = {}) {
    this.history.push({
      step, kind, status, runAt: instantOn(d), day: d, channel: 'wecom', template: step,
      variables: Object.entries(variables), benefit,
    });
    return this;
  }
  /** The member as of `run`, with stats for the order windows; later orders and events dropped. */
  build(run, windows = []) {
    const orders = this.orders.filter((o) => o.day <= run.today).sort((a, b) => a.day - b.day);
    const events = this.events.filter((e) => e.at <= run.runAt).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const history = [...this.history].sort((a, b) => (a.runAt < b.runAt ? -1 : a.runAt > b.runAt ? 1 : 0));
    return { profile: { ...this.profile }, orders: orderFacts(orders, run, windows), events, history, reach: this.reach };
  }
}

/** A level-1 member who joined on 1 January 2024 and has done nothing since. */
export const member = (id) => new MemberBuilder(id);

function orderFacts(orders, run, windows) {
  const byCategory = new Map();
  for (const o of orders) {
    const c = byCategory.get(o.category) ?? { category: o.category, orders: 0, spend: 0n, lastDay: o.day };
    Object.assign(c, { orders: c.orders + 1, spend: c.spend + o.amount, lastDay: Math.max(c.lastDay, o.day) });
    byCategory.set(o.category, c);
  }
  const categories = [...byCategory.values()].sort(
    (a, b) => b.orders - a.orders || b.lastDay - a.lastDay || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0),
  );
  const stats = windows.map((days) => {
    const inside = orders.filter((o) => run.isWithin(o.day, days));
    return { days, orders: inside.length, spend: inside.reduce((s, o) => s + o.amount, 0n) };
  });
  const [first, last] = [orders[0], orders[orders.length - 1]];
  return {
    firstOrderAt: first && instantOn(first.day), firstOrderDay: first?.day,
    lastOrderAt: last && instantOn(last.day), lastOrderDay: last?.day,
    orders: orders.length, spend: orders.reduce((s, o) => s + o.amount, 0n), windows: stats, categories,
  };
}
