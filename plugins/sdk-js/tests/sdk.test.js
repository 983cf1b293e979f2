// The JavaScript SDK under plain Node: config and checks, audience and
// trigger builders, member and run helpers, the decideBatch path through the
// WIT export, the testing fixtures. `node --test plugins/sdk-js/tests/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as sdk from '../canvas-sdk.js';
import { contextAt, day, instantOn, member, product, runOn, triggeredBy } from '../testing.js';

const { Audience, ConfigError, check, plugin } = sdk;

// Greets each member, and each batch once, in front of them.
const batchGreeter = plugin({
  id: 'batch-greeter', name: 'Batch greeter', version: '0.1.0', description: 'Says hello.',
  defaultConfig: { after_days: 90 },
  check: (c) => check.atLeast('after_days', c.after_days, 1),
  audience: () => Audience.when(sdk.hasOrdered()),
  decide: (run, m) => [sdk.message(m, 'hello', 'wecom', 'hello')],
  decideBatch: (run, members) => [
    sdk.message(members[0], 'batch', 'wecom', 'batch'),
    ...members.flatMap((m) => batchGreeter.core.decideMember(run, m)),
  ],
});
const errorOf = (call) => { try { call(); } catch (e) { return e; } return 'accepted'; };

test('a call decides its batch through an overridden decideBatch', () => {
  const run = runOn(2026, 6, 1, {});
  const members = ['a', 'b'].map((id) => member(id).build(run));
  const touches = batchGreeter.decide(contextAt(run.runAt, '{}'), members);
  assert.deepEqual(touches.map((t) => [t.memberId, t.step]), [['a', 'batch'], ['a', 'hello'], ['b', 'hello']]);
});

test('a config the strategy refuses is the WIT err from audience and from decide, naming the key', () => {
  const refused = 'invalid config for batch-greeter: after_days: must be at least 1 (is 0)';
  assert.equal(errorOf(() => batchGreeter.audienceFor('{"after_days": 0}')), refused);
  assert.equal(errorOf(() => batchGreeter.decide(contextAt(0n, '{"after_days": 0}'), [])), refused);
  assert.equal(errorOf(() => batchGreeter.audienceFor('{"after_dayz": 1}')),
    'invalid config for batch-greeter: unknown field `after_dayz`, expected one of after_days');
  assert.equal(errorOf(() => batchGreeter.audienceFor('{"after_days": 1.5}')),
    'invalid config for batch-greeter: after_days: must be a whole number (is 1.5)');
  assert.ok(batchGreeter.core.configOf('{}').after_days === 90);
  assert.throws(() => batchGreeter.core.audienceFor('[]'), ConfigError, 'the core throws the ConfigError itself');
});

test('checks and benefits refuse as the Rust SDK does, naming the key and the limit', () => {
  assert.equal(errorOf(() => check.memberLevel('levels.7', 7)).message, 'levels.7: unknown member level; levels are 1–4');
  assert.equal(errorOf(() => check.channel('channel', 'x'.repeat(65))).message, 'channel: is 65 bytes long; at most 64 bytes');
  assert.match(errorOf(() => check.template('t', 'coupon\u0007')).message, /^t: must not hold control characters/);
  assert.equal(errorOf(() => check.template('t', 'x'.repeat(128))), 'accepted');
  const value = (v) => errorOf(() => sdk.benefit({ kind: 'coupon', value: v }, 'levels.1')).message;
  assert.equal(value(-30), 'levels.1.value: must be from 0.01 to 100000000 yuan (is -30)');
  assert.equal(value(0.004), 'levels.1.value: must be from 0.01 to 100000000 yuan (is 0.004)');
  assert.equal(value(1e308), `levels.1.value: must be from 0.01 to 100000000 yuan (is 1${'0'.repeat(308)})`);
  assert.equal(value(1e-7), 'levels.1.value: must be from 0.01 to 100000000 yuan (is 0.0000001)');
  assert.equal(value(-1.5e21), 'levels.1.value: must be from 0.01 to 100000000 yuan (is -1500000000000000000000)');
  assert.match(errorOf(() => sdk.benefit({ kind: 'gift', value: 30 })).message, /^benefit.gift: a benefit of kind "gift"/);
  assert.match(errorOf(() => sdk.benefit({ kind: 'voucher', value: 3 })).message, /^benefit.kind: unknown benefit kind "voucher"/);
  assert.deepEqual(sdk.benefit({ kind: 'early_access', value: 0.125 }), { kind: 'early-access', value: 13n, gift: undefined });
});

test('the audience and trigger builders make the WIT records the Rust SDK makes', () => {
  const a = Audience.when(sdk.lastOrder(sdk.within(30))).or(sdk.clause([sdk.levelIn(3, 4)])).except(sdk.hasOrdered())
    .withOrderWindows(30, 180).withEvents(['coupon_redeemed'], 48).withLaunches(14)
    .on(sdk.onEvent('coupon_issued').requires('coupon_id').afterHours(2).unlessEvent('coupon_redeemed', 'coupon_id').unlessOrdered());
  assert.deepEqual(a.anyOf[0], { allOf: [{ tag: 'last-order', val: { min: 0, max: 29 } }], noneOf: [{ tag: 'has-ordered' }] });
  assert.deepEqual(a.anyOf[1].noneOf, [{ tag: 'has-ordered' }]);
  assert.deepEqual([a.orderWindows, a.eventKinds, a.eventLookbackHours, a.launchLookbackDays], [[30, 180], ['coupon_redeemed'], 48, 14]);
  assert.deepEqual(a.triggers, [{ eventKind: 'coupon_issued', requiresAttrs: ['coupon_id'], delayMinutes: 120,
    cancelIf: [{ tag: 'event', val: { kind: 'coupon_redeemed', sameAttr: 'coupon_id' } }, { tag: 'ordered' }] }]);
  assert.deepEqual(sdk.spendWithin(90, 50_000), { tag: 'spend-within', val: { withinDays: 90, atLeast: 50_000n } });
  assert.deepEqual(sdk.untoldLaunchInBoughtCategory(30, 'tell', 'sku'),
    { tag: 'untold-launch-in-bought-category', val: { withinDays: 30, step: 'tell', skuVariable: 'sku' } });
});

test('a triggered run carries its event, and attributes read as the Rust SDK reads them', () => {
  const run = triggeredBy({}, 'coupon_issued', instantOn(day(2026, 3, 1)), '{"coupon_id":"C7","n":3,"o":{"b":1,"a":[true]}}', 90);
  assert.deepEqual([run.trigger.kind, run.minutesSince(run.trigger.at)], ['coupon_issued', 90]);
  assert.deepEqual(['coupon_id', 'n', 'o', 'missing'].map((k) => run.triggerAttr(k)), ['C7', '3', '{"a":[true],"b":1}', undefined]);
  assert.equal(runOn(2026, 3, 1, {}).triggerAttr('coupon_id'), undefined);
  assert.equal(run.minutesSince(run.runAt + 1n), -1, 'rounded down, as Rust div_euclid');
});

test('spend windows, categories, events, history and reach read as built', () => {
  const run = runOn(2026, 6, 1, {});
  const m = member('m').ordered(day(2026, 5, 30), 100, 'dress').ordered(day(2026, 3, 1), 50.5, 'bag')
    .ordered(day(2026, 5, 1), 20, 'dress').ordered(day(2026, 7, 1), 999, 'future')
    .event('coupon_issued', instantOn(day(2026, 5, 31)), '{"coupon_id":"C1"}')
    .decided('first', 'message', 'holdout', day(2026, 5, 1))
    .wecomAdded(day(2025, 1, 1)).unsubscribed('sms', day(2026, 1, 1)).build(run, [30, 120]);
  assert.deepEqual(sdk.spendWindow(m, 30), { days: 30, orders: 1, spend: 10_000n });
  assert.deepEqual(sdk.spendWindow(m, 120), { days: 120, orders: 3, spend: 17_050n });
  assert.equal(sdk.favouriteCategory(m).category, 'dress');
  assert.ok(sdk.hasBought(m, 'bag') && !sdk.hasBought(m, 'future'));
  assert.equal(sdk.attr(sdk.eventsOf(m, 'coupon_issued')[0], 'coupon_id'), 'C1');
  const [first] = sdk.decisionsAt(m, 'first');
  assert.ok(sdk.hadTurn(first) && !sdk.wasSent(first) && sdk.lastSent(m, 'first') === undefined);
  assert.equal(sdk.wecomFriendSince(m), day(2025, 1, 1));
  assert.ok(sdk.consentsTo(m, 'wecom') && !sdk.consentsTo(m, 'sms'));
});

test('the calendar counts leap days and anniversaries as the Rust SDK', () => {
  assert.deepEqual(sdk.dateOf(20_513), { year: 2026, month: 3, day: 1 });
  assert.equal(sdk.dayOf({ year: 1970, month: 1, day: 1 }), 0);
  assert.equal(sdk.wholeYears({ year: 2024, month: 2, day: 29 }, { year: 2025, month: 2, day: 28 }), 1);
  assert.equal(sdk.wholeYears({ year: 2024, month: 2, day: 29 }, { year: 2025, month: 2, day: 27 }), 0);
  assert.ok(runOn(2027, 2, 28, {}).isAnniversaryOf({ year: 2024, month: 2, day: 29 }));
});

test('touch builders carry the member, the guide and the group buy', () => {
  const run = runOn(2026, 6, 1, {});
  const m = member('m').guide('G7').build(run);
  const task = sdk.staffTask(m, 'call', 'call_back', sdk.benefit({ kind: 'coupon', value: 20 }));
  assert.deepEqual([task.channel, task.action.val.guideId, sdk.touchBenefit(task).value], ['wecom', 'G7', 2000n]);
  const invite = sdk.withVar(sdk.groupBuyInvite(m, 'invite', 'sms', 'group_buy', sdk.groupBuy('SKU1', 3, 9_900)), 'sku', 'SKU1');
  assert.deepEqual([invite.action, invite.variables], [{ tag: 'group-buy-invite', val: { sku: 'SKU1', groupSize: 3, price: 9_900n } }, [['sku', 'SKU1']]]);
  assert.equal(sdk.touchBenefit(invite), undefined);
  assert.equal(product('N1', 'dress', day(2026, 5, 30)).launchedDay, day(2026, 5, 30));
});

test('the manifest says the API version and the default config', () => {
  const manifest = batchGreeter.describe();
  assert.deepEqual([manifest.apiVersion, JSON.parse(manifest.defaultConfig), manifest.schedule], ['0.4.0', { after_days: 90 }, sdk.DAILY_AT_10]);
});

test('first then follow-up follows a sent first once, after the days', () => {
  const flow = new sdk.FirstThenFollowUp(7);
  const run = runOn(2026, 6, 8, {});
  assert.equal(flow.stepDue(run, member('m').build(run), true), 'first');
  const sent = member('m').decided('first', 'message', 'dispatched', day(2026, 6, 1));
  assert.equal(flow.stepDue(run, sent.build(run), true), 'followup');
  const held = member('m').decided('first', 'message', 'holdout', day(2026, 6, 1));
  assert.equal(flow.stepDue(run, held.build(run), true), undefined);
  assert.deepEqual(flow.followupClauses()[1].allOf[0].val, { step: 'first', status: 'deferred', ago: { min: 7, max: 7 } });
});
