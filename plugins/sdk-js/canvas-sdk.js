// The canvas plugin SDK for JavaScript, on `canvas:strategy@0.4.0`: a
// strategy is one object.
//
//   import { plugin, Audience, onEvent, message, ONLY_ON_TRIGGERS } from '../../sdk-js/canvas-sdk.js';
//
//   export const strategy = plugin({
//     id: 'coupon-reminder', name: '...', version: '0.1.0', description: '...',
//     schedule: ONLY_ON_TRIGGERS,
//     defaultConfig: { channel: 'wecom' },
//     check: (config) => check.channel('channel', config.channel),
//     audience: () => Audience.nobody().on(onEvent('coupon_issued').afterHours(1)),
//     decide: (run, member) => [message(member, 'reminder', run.config.channel, 'reminder')],
//     // optional: work out once per batch what does not depend on the member
//     // decideBatch: (run, members) => ...,
//   });
//
// Values have the shapes componentize-js gives the WIT types (records with
// camelCase fields, variants `{ tag, val }`, enums kebab-case strings,
// option<T> the value or undefined, s64 — instants, money in fen — BigInts),
// so the modules below are plain JavaScript that Node runs as is; the types
// are in canvas-sdk.d.ts. Modules: check.js (config, checks, benefits),
// audience.js, touch.js, run.js (Run, calendar, member helpers), steps.js, strategy.js
// (defineStrategy), component.js (the WIT export, `plugin`), testing.js
// (fixtures for unit tests, not re-exported here).

export * as check from './check.js';
export { ConfigError, parseConfig, benefit, benefitSpec, MAX_BENEFIT_YUAN } from './check.js';
export * from './audience.js';
export * from './touch.js';
export * from './run.js';
export * from './strategy.js';
export { FirstThenFollowUp } from './steps.js';
export { plugin } from './component.js';
