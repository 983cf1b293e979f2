// The canvas plugin SDK for JavaScript: a strategy is one object.
//
//   import { plugin, Audience, birthdayInRunMonth, coupon, benefit } from '../../sdk-js/canvas-sdk.js';
//
//   export const strategy = plugin({
//     id: 'birthday-tiered', name: '...', version: '0.1.0', description: '...',
//     defaultConfig: { channel: 'wecom' },
//     audience: (config) => Audience.when(birthdayInRunMonth()),
//     decide: (run, member) => [],          // the touches for one member
//     // optional: work out once per batch what does not depend on the member
//     // decideBatch: (run, members) => members.flatMap((member) => ...),
//   });
//
// componentize-js maps the WIT types to plain objects: records have
// camelCase fields, variants are `{ tag: 'kebab-name', val }`, enums are
// kebab-case strings, `option<T>` is the value or undefined, and s64 fields
// (instants, money in fen) are BigInts. `plugin()` turns a thrown ConfigError
// into the `err` of the WIT result.

export const API_VERSION = '0.1.0';
export const DAILY_AT_10 = '0 10 * * *';
export const HOURLY = '0 * * * *';
export const MONTHLY_ON_THE_1ST_AT_10 = '0 10 1 * *';

// ---- configuration ----------------------------------------------------------

export class ConfigError extends Error {}

const jsonKind = (v) =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

/** The effective config checked against the defaults: an unknown key is an
 *  error, a missing key takes its default, a value must have the default's type. */
export function parseConfig(pluginId, raw, defaults) {
  let given;
  try {
    given = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(`invalid config for ${pluginId}: not JSON: ${e.message}`);
  }
  if (jsonKind(given) !== 'an object') {
    throw new ConfigError(`invalid config for ${pluginId}: expected a JSON object`);
  }
  const config = { ...defaults };
  for (const [key, value] of Object.entries(given)) {
    if (!(key in defaults)) {
      const known = Object.keys(defaults).sort().join(', ');
      throw new ConfigError(`invalid config for ${pluginId}: unknown field \`${key}\`, expected one of ${known}`);
    }
    if (defaults[key] !== null && jsonKind(value) !== jsonKind(defaults[key])) {
      throw new ConfigError(
        `invalid config for ${pluginId}: \`${key}\` must be ${jsonKind(defaults[key])}, not ${jsonKind(value)}`,
      );
    }
    config[key] = value;
  }
  return config;
}

// ---- the plugin -------------------------------------------------------------

/** One run: the host's clock, the brand calendar's date, the config, the launches. */
export class Run {
  constructor(context, config) {
    this.runAt = context.runAt;
    this.today = context.today;
    this.date = context.date;
    this.timezone = context.timezone;
    this.config = config;
    this.launches = context.launches;
  }

  daysSince(day) {
    return this.today - day;
  }

  minutesSince(at) {
    return Number((this.runAt - at) / 60000n);
  }
}

function asWitError(e) {
  // A ConfigError is the operator's to fix: it becomes the WIT `err`.
  // Anything else is a bug in the plugin and fails the run the same way,
  // with the message and where it happened.
  return e instanceof ConfigError ? e.message : `${e}\n${e.stack ?? ''}`.trim();
}

/** The `strategy` export of the WIT world, from a plain description. */
export function plugin({
  id,
  name,
  version,
  description,
  schedule = DAILY_AT_10,
  defaultConfig,
  audience,
  decide,
  decideBatch = (run, members) => members.flatMap((member) => decide(run, member)),
}) {
  const configOf = (raw) => parseConfig(id, raw, defaultConfig);
  return {
    describe() {
      return {
        id,
        name,
        version,
        apiVersion: API_VERSION,
        description,
        defaultConfig: JSON.stringify(defaultConfig),
        schedule,
      };
    },
    audienceFor(config) {
      try {
        return audience(configOf(config));
      } catch (e) {
        throw asWitError(e);
      }
    },
    decide(context, members) {
      try {
        const run = new Run(context, configOf(context.config));
        return decideBatch(run, members);
      } catch (e) {
        throw asWitError(e);
      }
    },
  };
}

// ---- audience builders --------------------------------------------------------

export const exactly = (days) => ({ min: days, max: days });
export const within = (days) => ({ min: 0, max: Math.max(days - 1, 0) });
export const between = (min, max) => ({ min, max });

export const joined = (ago) => ({ tag: 'joined', val: ago });
export const wecomAdded = (ago) => ({ tag: 'wecom-added', val: ago });
export const firstOrder = (ago) => ({ tag: 'first-order', val: ago });
export const lastOrder = (ago) => ({ tag: 'last-order', val: ago });
export const hasOrdered = () => ({ tag: 'has-ordered' });
export const ordersWithin = (withinDays, atLeast) => ({ tag: 'orders-within', val: { withinDays, atLeast } });
export const levelIn = (...levels) => ({ tag: 'level-in', val: levels });
export const birthdayInRunMonth = () => ({ tag: 'birthday-in-run-month' });
export const event = (kind, withinHours) => ({ tag: 'event', val: { kind, withinHours } });

export const clause = (allOf, noneOf = []) => ({ allOf, noneOf });

export const Audience = {
  any: (...clauses) => ({
    anyOf: clauses,
    orderWindows: [],
    eventKinds: [],
    eventLookbackHours: 0,
    launchLookbackDays: 0,
  }),
  when: (...conditions) => Audience.any(clause(conditions)),
  nobody: () => Audience.any(),
};

// ---- touches --------------------------------------------------------------------

const BENEFIT_KINDS = ['coupon', 'gift', 'lottery', 'points', 'early_access'];

/** A benefit from its config shape: { kind: 'coupon', value: 20 (yuan), gift: '...' }. */
export function benefit(spec) {
  if (!BENEFIT_KINDS.includes(spec.kind)) {
    throw new ConfigError(`unknown benefit kind ${JSON.stringify(spec.kind)}, expected one of ${BENEFIT_KINDS}`);
  }
  // Yuan to fen, rounding half away from zero as Rust's f64::round does.
  const yuan = spec.value ?? 0;
  const fen = Math.sign(yuan) * Math.round(Math.abs(yuan) * 100);
  return { kind: spec.kind.replace('_', '-'), value: BigInt(fen), gift: spec.gift ?? undefined };
}

function touch(member, step, channel, template, action, variables) {
  return {
    memberId: member.profile.id,
    step,
    channel,
    template,
    variables: Object.entries(variables).map(([k, v]) => [k, String(v)]),
    action,
  };
}

export const message = (member, step, channel, template, variables = {}) =>
  touch(member, step, channel, template, { tag: 'message' }, variables);

export const coupon = (member, step, channel, template, benefit_, variables = {}) =>
  touch(member, step, channel, template, { tag: 'coupon', val: benefit_ }, variables);

/** A task for the member's own guide, who contacts them over WeCom. */
export const staffTask = (member, step, template, benefit_, variables = {}) =>
  touch(member, step, 'wecom', template, { tag: 'staff-task', val: { guideId: member.profile.guideId, benefit: benefit_ } }, variables);

// ---- the brand calendar -----------------------------------------------------------

const MS_PER_DAY = 86_400_000;

/** The calendar date of a day number (days since 1970-01-01 in the brand's calendar). */
export function dateOf(day) {
  const d = new Date(day * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export const decisionsAt = (member, step) => member.history.filter((d) => d.step === step);
