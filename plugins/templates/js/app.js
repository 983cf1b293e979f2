// __NAME__: members who added the brand on WeCom exactly `after_days` days
// ago and have not ordered yet get a welcome message. Replace with your rule.

import { plugin, check, Audience, clause, wecomAdded, hasOrdered, exactly, message } from './sdk/canvas-sdk.js';

export const strategy = plugin({
  id: '__ID__',
  name: '__NAME__',
  version: '0.1.0',
  description: 'Welcomes members who added the brand on WeCom and have not ordered yet.',
  // What operators may change without a rebuild (`canvas plugin config`).
  defaultConfig: { after_days: 3, channel: 'wecom', template: '__TEMPLATE__' },

  // Refused at `canvas plugin config`, with this message, not at run time.
  check(c) {
    check.atLeast('after_days', c.after_days, 1);
    check.channel('channel', c.channel);
    check.template('template', c.template);
  },

  // The host evaluates this over the member base; only these members reach `decide`.
  audience: (config) => Audience.any(clause([wecomAdded(exactly(config.after_days))], [hasOrdered()])),

  decide: (run, member) => [
    message(member, 'welcome', run.config.channel, run.config.template, { name: member.profile.name }),
  ],
});
