// Types of testing.js, the fixtures for unit-testing a strategy under Node.
import type { Benefit, Config, DecisionStatus, ActionKind, Day, Event, Instant, Member, Product, Run, RunContext } from './canvas-sdk.js';

export declare function day(year: number, month: number, date: number): Day;
export declare function instantOn(day: Day): Instant;
export declare function localDay(at: Instant): Day;
export declare function contextAt(runAt: Instant, config?: string, extra?: { trigger?: Event; launches?: Product[] }): RunContext;
export declare function runOn<C = Config>(year: number, month: number, date: number, config: C): Run<C>;
export declare function triggeredBy<C = Config>(config: C, kind: string, at: Instant, attrs: string, delayMinutes: number): Run<C>;
export declare function product(sku: string, category: string, launched: Day, tags?: string[]): Product;
export interface MemberBuilder {
  level(level: number): this;
  birthday(year: number, month: number, date: number): this;
  joined(day: Day): this;
  guide(guideId: string): this;
  wecomAdded(day: Day): this;
  wecomDeleted(day: Day): this;
  unsubscribed(channel: string | undefined, day: Day): this;
  doNotContact(day: Day): this;
  ordered(day: Day, yuan: number, category: string): this;
  event(kind: string, at: Instant, attrs?: string): this;
  decided(step: string, kind: ActionKind, status: DecisionStatus, day: Day, extra?: { benefit?: Benefit; variables?: Record<string, string> }): this;
  build(run: Run<unknown>, windows?: number[]): Member;
}
export declare function member(id: string): MemberBuilder;
