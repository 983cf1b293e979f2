// Birthday benefits by level (生日会员月度复购), the JavaScript twin of
// plugins/birthday-tiered: on the 1st of each month, members whose birthday
// falls in that month get the benefit of their level. Once per member per year.

import {
  plugin, check, Audience, birthdayInRunMonth, coupon, benefit, dateOf, decisionsAt, MONTHLY_ON_THE_1ST_AT_10,
} from '../../sdk-js/canvas-sdk.js';

export const STEP = 'birthday';

export const strategy = plugin({
  id: 'birthday-tiered',
  name: 'Birthday benefits by level',
  version: '0.1.0',
  description: 'On the 1st of each month, members with a birthday that month get the benefit of their level.',
  schedule: MONTHLY_ON_THE_1ST_AT_10,
  defaultConfig: {
    channel: 'wecom',
    template: 'birthday_benefit',
    // The benefit for each member level (1..=4).
    levels: {
      1: { kind: 'coupon', value: 20.0 },
      2: { kind: 'coupon', value: 50.0 },
      3: { kind: 'coupon', value: 100.0 },
      4: { kind: 'coupon', value: 100.0, gift: 'birthday gift box' },
    },
  },

  // Levels are the member levels 1–4: a level 7 would never match anyone, and
  // a benefit worth nothing is refused by the host on every touch.
  check(c) {
    check.channel('channel', c.channel);
    check.template('template', c.template);
    for (const [level, spec] of Object.entries(c.levels)) {
      check.memberLevel(`levels.${level}`, Number(level));
      check.benefitSpec(`levels.${level}`, spec);
    }
  },

  audience: () => Audience.when(birthdayInRunMonth()),

  decide(run, member) {
    const { profile } = member;
    const birthdayThisMonth = profile.birthday?.month === run.date.month;
    const thisYear = (d) => dateOf(d.day).year === run.date.year;
    if (!birthdayThisMonth || decisionsAt(member, STEP).some(thisYear)) return [];
    const tier = run.config.levels[profile.level];
    if (!tier) return [];
    const c = run.config;
    return [coupon(member, STEP, c.channel, c.template, benefit(tier, `levels.${profile.level}`), { level: profile.level })];
  },
});
