// The coupon reminder's rules under plain Node (no component build).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { COUPON_ID, ISSUED, REDEEMED, STEP, strategy } from './app.js';
import { ONLY_ON_TRIGGERS } from '../../sdk-js/canvas-sdk.js';
import { day, instantOn, member, runOn, triggeredBy } from '../../sdk-js/testing.js';

const S = strategy.core;
const ISSUED_AT = instantOn(day(2026, 3, 1));
const config = S.configOf('{}');
const decideOn = (run) => S.decideMember(run, member('m').build(run));

test('it reacts to coupons an hour later unless redeemed and never runs on a schedule', () => {
  const audience = strategy.audienceFor('{}');
  assert.deepEqual(audience.anyOf, [], 'nobody on a schedule');
  assert.equal(strategy.describe().schedule, ONLY_ON_TRIGGERS);
  assert.deepEqual(audience.triggers, [{
    eventKind: ISSUED, requiresAttrs: [COUPON_ID], delayMinutes: 60,
    cancelIf: [{ tag: 'event', val: { kind: REDEEMED, sameAttr: COUPON_ID } }],
  }]);
  assert.equal(strategy.audienceFor('{"remind_after_hours": 3}').triggers[0].delayMinutes, 180);
});

test('a triggered call reminds of the coupon that triggered it', () => {
  const [touch, ...more] = decideOn(triggeredBy(config, ISSUED, ISSUED_AT, '{"coupon_id":"C7"}', 60));
  assert.deepEqual(more, []);
  assert.deepEqual([touch.step, touch.channel, touch.variables], [STEP, 'wecom', [[COUPON_ID, 'C7']]]);
});

test('a call past giving up, without a trigger or without a coupon id reminds nobody', () => {
  assert.deepEqual(decideOn(triggeredBy(config, ISSUED, ISSUED_AT, '{"coupon_id":"C7"}', 24 * 60 + 1)), []);
  assert.equal(decideOn(triggeredBy(config, ISSUED, ISSUED_AT, '{"coupon_id":"C7"}', 24 * 60)).length, 1);
  assert.deepEqual(decideOn(runOn(2026, 3, 1, config)), []);
  assert.deepEqual(decideOn(triggeredBy(config, ISSUED, ISSUED_AT, '{}', 60)), []);
});

test('a reminder at 0 hours or not before giving up is refused naming the key', () => {
  const message = (raw) => { try { strategy.audienceFor(raw); } catch (e) { return e; } return 'accepted'; };
  assert.equal(message('{"remind_after_hours": 0}'), 'invalid config for coupon-reminder: remind_after_hours: must be at least 1 (is 0)');
  assert.equal(message('{"remind_after_hours": 24}'),
    'invalid config for coupon-reminder: give_up_after_hours: must be more than remind_after_hours, 24 (is 24)');
  assert.equal(message('{"remind_after_hours": 23}'), 'accepted');
});
