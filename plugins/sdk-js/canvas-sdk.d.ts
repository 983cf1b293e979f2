// Types of the canvas JavaScript SDK (canvas-sdk.js) and of the WIT package
// `canvas:strategy@0.4.0` as componentize-js maps it: records with camelCase
// fields, variants `{ tag, val }`, enums kebab-case strings, option<T> as
// `T | undefined`, s64 (instants, money in fen) as bigint.

export type Instant = bigint;
export type Day = number;
export type Money = bigint;
export interface CalendarDate { year: number; month: number; day: number }
export interface Manifest {
  id: string; name: string; version: string; apiVersion: string; description: string; defaultConfig: string; schedule: string;
}

// ---- the audience
export interface DaysAgo { min: number; max: number }
export type DecisionStatus = 'dispatched' | 'suppressed' | 'holdout' | 'deferred' | 'failed';
export type ActionKind = 'message' | 'coupon' | 'staff-task' | 'group-buy-invite';
export type Condition =
  | { tag: 'joined' | 'wecom-added' | 'first-order' | 'last-order'; val: DaysAgo }
  | { tag: 'has-ordered' | 'birthday-in-run-month' | 'wecom-friend-now' }
  | { tag: 'orders-within'; val: { withinDays: number; atLeast: number } }
  | { tag: 'spend-within'; val: { withinDays: number; atLeast: Money } }
  | { tag: 'level-in'; val: number[] }
  | { tag: 'event'; val: { kind: string; withinHours: number } }
  | { tag: 'decided'; val: { step?: string; status?: DecisionStatus; ago: DaysAgo } }
  | { tag: 'bought-launched-category'; val: number }
  | { tag: 'untold-launch-in-bought-category'; val: { withinDays: number; step: string; skuVariable: string } };
export interface Clause { allOf: Condition[]; noneOf: Condition[] }
export type CancelCondition = { tag: 'event'; val: { kind: string; sameAttr?: string } } | { tag: 'ordered' };
export interface Trigger { eventKind: string; requiresAttrs: string[]; delayMinutes: number; cancelIf: CancelCondition[] }

export declare class Audience {
  anyOf: Clause[]; orderWindows: number[]; eventKinds: string[]; eventLookbackHours: number; launchLookbackDays: number;
  triggers: Trigger[];
  constructor(anyOf?: Clause[]);
  static nobody(): Audience;
  static any(...clauses: Clause[]): Audience;
  static when(...conditions: Condition[]): Audience;
  or(...clauses: Clause[]): this;
  except(...conditions: Condition[]): this;
  withOrderWindows(...days: number[]): this;
  withEvents(kinds: string[], lookbackHours: number): this;
  withLaunches(days: number): this;
  on(trigger: Trigger | TriggerSpec): this;
}
export declare class TriggerSpec implements Trigger {
  eventKind: string; requiresAttrs: string[]; delayMinutes: number; cancelIf: CancelCondition[];
  constructor(kind: string);
  afterMinutes(minutes: number): this;
  afterHours(hours: number): this;
  requires(...attrs: string[]): this;
  unlessEvent(kind: string, sameAttr?: string): this;
  unlessOrdered(): this;
}
export declare function onEvent(kind: string): TriggerSpec;
export declare function exactly(days: number): DaysAgo;
export declare function within(days: number): DaysAgo;
export declare function between(min: number, max: number): DaysAgo;
export declare function joined(ago: DaysAgo): Condition;
export declare function wecomAdded(ago: DaysAgo): Condition;
export declare function firstOrder(ago: DaysAgo): Condition;
export declare function lastOrder(ago: DaysAgo): Condition;
export declare function hasOrdered(): Condition;
export declare function ordersWithin(withinDays: number, atLeast: number): Condition;
export declare function spendWithin(withinDays: number, atLeastFen: number | bigint): Condition;
export declare function levelIn(...levels: number[]): Condition;
export declare function birthdayInRunMonth(): Condition;
export declare function event(kind: string, withinHours: number): Condition;
export declare function decided(ago: DaysAgo, step?: string, status?: DecisionStatus): Condition;
export declare function boughtLaunchedCategory(withinDays: number): Condition;
export declare function untoldLaunchInBoughtCategory(withinDays: number, step: string, skuVariable: string): Condition;
export declare function wecomFriendNow(): Condition;
export declare function clause(allOf: Condition[], noneOf?: Condition[]): Clause;

// ---- the member
export interface Profile {
  id: string; name: string; level: number; birthday?: CalendarDate; joinedAt: Instant; joinedDay: Day;
  wecomAddedAt?: Instant; wecomAddedDay?: Day; storeId: string; guideId: string; timezone?: string;
}
export interface WindowStats { days: number; orders: number; spend: Money }
export interface CategoryStats { category: string; orders: number; spend: Money; lastDay: Day }
export interface OrderFacts {
  firstOrderAt?: Instant; firstOrderDay?: Day; lastOrderAt?: Instant; lastOrderDay?: Day; orders: number; spend: Money;
  windows: WindowStats[]; categories: CategoryStats[];
}
export interface Event { id: string; kind: string; at: Instant; day: Day; attrs: string }
export type BenefitKind = 'coupon' | 'gift' | 'lottery' | 'points' | 'early-access';
export interface Benefit { kind: BenefitKind; value: Money; gift?: string }
export interface PastDecision {
  step: string; kind: ActionKind; status: DecisionStatus; runAt: Instant; day: Day; channel: string; template: string;
  variables: [string, string][]; benefit?: Benefit;
}
export interface Moment { at: Instant; day: Day }
export type WecomFriendship = { tag: 'friend' | 'deleted'; val: Moment } | { tag: 'never' };
export interface Reach {
  wecom: WecomFriendship; unsubscribedEverywhere?: Moment; channels: { channel: string; consents: boolean; since: Moment }[];
  doNotContact?: Moment;
}
export interface Member { profile: Profile; orders: OrderFacts; events: Event[]; history: PastDecision[]; reach: Reach }
export interface Product {
  sku: string; name: string; category: string; price: Money; launchedAt: Instant; launchedDay: Day; tags: string[];
}
export interface RunContext {
  runAt: Instant; today: Day; date: CalendarDate; timezone: string; config: string; launches: Product[]; trigger?: Event;
}

export declare function decisionsAt(member: Member, step: string): PastDecision[];
export declare function lastSent(member: Member, step: string): PastDecision | undefined;
export declare function wasDecided(member: Member, step: string): boolean;
export declare function wasSent(decision: PastDecision): boolean;
export declare function hadTurn(decision: PastDecision): boolean;
export declare function decisionVar(decision: PastDecision, key: string): string | undefined;
export declare function eventsOf(member: Member, kind: string): Event[];
export declare function attr(event: Event, key: string): string | undefined;
export declare function wecomFriendSince(member: Member): Day | undefined;
export declare function spendWindow(member: Member, days: number): WindowStats | undefined;
export declare function favouriteCategory(member: Member): CategoryStats | undefined;
export declare function hasBought(member: Member, category: string): boolean;
export declare function consentsTo(member: Member, channel: string): boolean;

// ---- the run and the calendar
export declare class Run<C = Config> {
  runAt: Instant; today: Day; date: CalendarDate; timezone: string; config: C; launches: Product[]; trigger?: Event;
  constructor(context: RunContext, config: C);
  triggerAttr(key: string): string | undefined;
  daysSince(day: Day): number;
  minutesSince(at: Instant): number;
  isAnniversaryOf(date: CalendarDate): boolean;
  isWithin(day: Day, days: number): boolean;
}
export declare function dateOf(day: Day): CalendarDate;
export declare function dayOf(date: CalendarDate): Day;
export declare function isLeapYear(year: number): boolean;
export declare function daysInMonth(year: number, month: number): number;
export declare function anniversaryIn(date: CalendarDate, year: number): CalendarDate;
export declare function wholeYears(since: CalendarDate, on: CalendarDate): number;
export declare class FirstThenFollowUp {
  static FIRST: 'first'; static FOLLOWUP: 'followup';
  afterDays: number;
  constructor(afterDays: number);
  followupClauses(): Clause[];
  stepDue(run: Run<unknown>, member: Member, firstIsDue: boolean): 'first' | 'followup' | undefined;
}

// ---- touches
export interface GroupBuy { sku: string; groupSize: number; price: Money }
export type Action =
  | { tag: 'message' }
  | { tag: 'coupon'; val: Benefit }
  | { tag: 'staff-task'; val: { guideId: string; benefit?: Benefit } }
  | { tag: 'group-buy-invite'; val: GroupBuy };
export interface Touch { memberId: string; step: string; channel: string; template: string; variables: [string, string][]; action: Action }
export type Variables = Record<string, unknown> | [string, unknown][];
export declare function message(member: Member, step: string, channel: string, template: string, variables?: Variables): Touch;
export declare function coupon(member: Member, step: string, channel: string, template: string, benefit: Benefit, variables?: Variables): Touch;
export declare function staffTask(member: Member, step: string, template: string, benefit?: Benefit, variables?: Variables): Touch;
export declare function groupBuy(sku: string, groupSize: number, priceFen: number | bigint): GroupBuy;
export declare function groupBuyInvite(member: Member, step: string, channel: string, template: string, group: GroupBuy, variables?: Variables): Touch;
export declare function withVar(touch: Touch, key: string, value: unknown): Touch;
export declare function touchBenefit(touch: Touch): Benefit | undefined;

// ---- config and checks
export type Config = Record<string, any>;
export interface BenefitSpec { kind: 'coupon' | 'gift' | 'lottery' | 'points' | 'early_access'; value?: number; gift?: string }
export declare class ConfigError extends Error {}
export declare function parseConfig(raw: string, defaults: Config): Config;
export declare function benefitSpec(key: string, raw: unknown): BenefitSpec;
export declare function benefit(spec: unknown, key?: string): Benefit;
export declare const MAX_BENEFIT_YUAN: number;
export declare namespace check {
  const MEMBER_LEVELS: number[];
  const MAX_CHANNEL_BYTES: number;
  const MAX_LABEL_BYTES: number;
  const MAX_BENEFIT_YUAN: number;
  function atLeast(key: string, value: number, min: number): void;
  function memberLevel(key: string, level: number): void;
  function name(key: string, text: unknown, max: number): void;
  function channel(key: string, value: unknown): void;
  function template(key: string, value: unknown): void;
  function benefitSpec(key: string, raw: unknown): BenefitSpec;
  function benefit(spec: unknown, key?: string): Benefit;
  function parseConfig(raw: string, defaults: Config): Config;
}

// ---- the strategy
export declare const API_VERSION: '0.4.0';
export declare const DAILY_AT_10: string;
export declare const HOURLY: string;
export declare const MONTHLY_ON_THE_1ST_AT_10: string;
export declare const ONLY_ON_TRIGGERS: '';
export interface StrategyDefinition<C extends Config = Config> {
  id: string; name: string; version: string; description: string; schedule?: string; defaultConfig: C;
  check?(config: C): void;
  audience(config: C): Audience;
  decide(run: Run<C>, member: Member): Touch[];
  decideBatch?(run: Run<C>, members: Member[]): Touch[];
}
export interface Strategy<C extends Config = Config> {
  id: string; defaultConfig: C;
  configOf(raw: string): C;
  audience(config: C): Audience;
  decideMember(run: Run<C>, member: Member): Touch[];
  decideBatch(run: Run<C>, members: Member[]): Touch[];
  describe(): Manifest;
  audienceFor(raw: string): Audience;
  decide(context: RunContext, members: Member[]): Touch[];
}
export declare function defineStrategy<C extends Config>(def: StrategyDefinition<C>): Strategy<C>;
/** The WIT export; a refused config is thrown as the WIT `err` string. */
export interface WitStrategy<C extends Config = Config> {
  core: Strategy<C>;
  describe(): Manifest;
  audienceFor(config: string): Audience;
  decide(context: RunContext, members: Member[]): Touch[];
}
export declare function plugin<C extends Config>(def: StrategyDefinition<C>): WitStrategy<C>;
