// __NAME__'s rules under plain Node, no component build: `node --test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { strategy } from './app.js';
import { member, runOn } from './sdk/testing.js';

test('welcomes with the member name', () => {
  const run = runOn(2026, 6, 10, strategy.core.configOf('{}'));
  const [touch, ...more] = strategy.core.decideMember(run, member('M1').build(run));
  assert.deepEqual(more, []);
  assert.deepEqual([touch.step, touch.variables], ['welcome', [['name', 'Member M1']]]);
});

test('zero days is refused naming the key', () => {
  assert.throws(() => strategy.audienceFor('{"after_days": 0}'), (e) =>
    e === 'invalid config for __ID__: after_days: must be at least 1 (is 0)');
});
