// The birthday benefits' rules under plain Node (no component build).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { STEP, strategy } from './app.js';
import { touchBenefit } from '../../sdk-js/canvas-sdk.js';
import { day, member, runOn } from '../../sdk-js/testing.js';

const S = strategy.core;
const benefitOn = (run, builder) => S.decideMember(run, builder.build(run)).map(touchBenefit)[0];

test('each level gets its tier, level 4 with the gift box', () => {
  const run = runOn(2026, 3, 1, S.configOf('{}'));
  const values = [1, 2, 3, 4].map((l) => benefitOn(run, member('m').level(l).birthday(1990, 3, 14)).value);
  assert.deepEqual(values, [2000n, 5000n, 10000n, 10000n]);
  assert.equal(benefitOn(run, member('m').level(4).birthday(1990, 3, 14)).gift, 'birthday gift box');
});

test('leap day birthdays are february birthdays in common years', () => {
  assert.ok(benefitOn(runOn(2027, 2, 1, S.configOf('{}')), member('m').birthday(2000, 2, 29)));
  assert.equal(benefitOn(runOn(2027, 3, 1, S.configOf('{}')), member('m').birthday(2000, 2, 29)), undefined);
});

test('once per member per year', () => {
  const run = runOn(2026, 3, 1, S.configOf('{}'));
  const thisYear = member('m').birthday(1990, 3, 14).decided(STEP, 'coupon', 'dispatched', day(2026, 3, 1));
  assert.equal(benefitOn(run, thisYear), undefined);
  const lastYear = member('m').birthday(1990, 3, 14).decided(STEP, 'coupon', 'dispatched', day(2025, 3, 1));
  assert.ok(benefitOn(run, lastYear));
});

test('a level that is not a member level or a benefit worth nothing is refused naming it', () => {
  // Through the WIT export, as the host calls it: the error is the WIT `err` string.
  const message = (config) => { try { strategy.audienceFor(config); } catch (e) { return e; } return 'accepted'; };
  assert.equal(message('{"levels": {"7": {"kind": "coupon", "value": 30}}}'),
    'invalid config for birthday-tiered: levels.7: unknown member level; levels are 1–4');
  assert.equal(message('{"levels": {"1": {"kind": "coupon", "value": -30}}}'),
    'invalid config for birthday-tiered: levels.1.value: must be from 0.01 to 100000000 yuan (is -30)');
  assert.equal(message('{"channel": ""}'), 'invalid config for birthday-tiered: channel: must not be empty; 1–64 bytes');
  assert.equal(message('{}'), 'accepted');
});
