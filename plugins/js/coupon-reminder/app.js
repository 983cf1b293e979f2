// Unredeemed coupon reminder, triggered: the JavaScript twin of
// plugins/coupon-reminder. `remind_after_hours` after a `coupon_issued` event
// the host calls the strategy for that member — unless a `coupon_redeemed`
// with the same `coupon_id` came first — and it sends one reminder of that
// coupon. A call later than `give_up_after_hours` after the coupon reminds
// nobody. It never runs on a schedule.

import { plugin, check, ConfigError, Audience, onEvent, message, ONLY_ON_TRIGGERS } from '../../sdk-js/canvas-sdk.js';

export const STEP = 'reminder';
export const ISSUED = 'coupon_issued';
export const REDEEMED = 'coupon_redeemed';
export const COUPON_ID = 'coupon_id';

export const strategy = plugin({
  id: 'coupon-reminder',
  name: 'Unredeemed coupon reminder',
  version: '0.1.0',
  description: 'Reminds a member once of a coupon not redeemed within the hour.',
  schedule: ONLY_ON_TRIGGERS,
  defaultConfig: { remind_after_hours: 1, give_up_after_hours: 24, channel: 'wecom', template: 'coupon_reminder' },

  // At once would remind a member still reading the coupon; giving up no later
  // than reminding would remind of no coupon ever.
  check(c) {
    check.atLeast('remind_after_hours', c.remind_after_hours, 1);
    if (c.give_up_after_hours <= c.remind_after_hours) {
      throw new ConfigError(
        `give_up_after_hours: must be more than remind_after_hours, ${c.remind_after_hours} (is ${c.give_up_after_hours})`,
      );
    }
    check.channel('channel', c.channel);
    check.template('template', c.template);
  },

  audience: (c) =>
    Audience.nobody().on(
      onEvent(ISSUED).requires(COUPON_ID).afterHours(c.remind_after_hours).unlessEvent(REDEEMED, COUPON_ID),
    ),

  decide(run, member) {
    const c = run.config;
    const couponId = run.triggerAttr(COUPON_ID);
    if (couponId === undefined || run.minutesSince(run.trigger.at) > c.give_up_after_hours * 60) return [];
    return [message(member, STEP, c.channel, c.template, { [COUPON_ID]: couponId })];
  },
});
