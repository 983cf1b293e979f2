// Config for a strategy: parsing the effective config against the defaults,
// the common checks of a value (each names the key and the allowed range, as
// the Rust SDK's `check` module: `after_days: must be at least 1 (is 0)`), and
// benefits as operators write them in config. A check throws ConfigError; the
// strategy puts `invalid config for <id>: ` in front.

/** A config the plugin refuses; the message is shown to the operator. */
export class ConfigError extends Error {}

/** The member levels there are: a profile's `level` is 1..=4 (V1..V4). */
export const MEMBER_LEVELS = [1, 2, 3, 4];
/** The longest channel the host accepts on a touch, in bytes. */
export const MAX_CHANNEL_BYTES = 64;
/** The longest template or gift name the host accepts on a touch, in bytes. */
export const MAX_LABEL_BYTES = 128;
/** The most a benefit in config may be worth, in yuan (the host's ceiling, 10^10 fen). */
export const MAX_BENEFIT_YUAN = 100_000_000;

const jsonKind = (v) =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

/** The effective config (a JSON object) read against the defaults: an unknown
 *  key is an error, a missing key takes its default, a value must have the
 *  default's JSON type. */
export function parseConfig(raw, defaults) {
  let given;
  try {
    given = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(`not JSON: ${e.message}`);
  }
  if (jsonKind(given) !== 'an object') throw new ConfigError('expected a JSON object');
  // A deep copy: a run never changes the defaults.
  const config = JSON.parse(JSON.stringify(defaults));
  for (const [key, value] of Object.entries(given)) {
    if (!Object.hasOwn(defaults, key)) {
      const known = Object.keys(defaults).sort().join(', ');
      throw new ConfigError(`unknown field \`${key}\`, expected one of ${known}`);
    }
    const expected = defaults[key];
    if (expected !== null && jsonKind(value) !== jsonKind(expected)) {
      throw new ConfigError(`${key}: must be ${jsonKind(expected)}, not ${jsonKind(value)}`);
    }
    if (Number.isInteger(expected) && !Number.isInteger(value)) {
      throw new ConfigError(`${key}: must be a whole number (is ${value})`);
    }
    config[key] = value;
  }
  return config;
}

/** A number as Rust prints an f64: `-30`, `0.004`, `NaN`, `inf`, and never
 *  with an exponent (JavaScript writes 1e+308 and 1e-7). */
function rustNumber(v) {
  if (v === Infinity || v === -Infinity) return v > 0 ? 'inf' : '-inf';
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-])(\d+)$/.exec(String(v));
  if (!m) return String(v);
  const [, sign, lead, rest = '', direction, exp] = m;
  const digits = lead + rest;
  return direction === '+'
    ? sign + digits + '0'.repeat(Number(exp) - rest.length)
    : `${sign}0.${'0'.repeat(Number(exp) - 1)}${digits}`;
}

/** `value` is at least `min`: a day or hour count where 0 makes no sense. */
export function atLeast(key, value, min) {
  if (!(value >= min)) throw new ConfigError(`${key}: must be at least ${min} (is ${rustNumber(value)})`);
}

/** `level` is a member level (1–4). */
export function memberLevel(key, level) {
  if (!MEMBER_LEVELS.includes(level)) throw new ConfigError(`${key}: unknown member level; levels are 1–4`);
}

/** A name the host shows or passes on: text, not blank, at most `max` bytes, no control characters. */
export function name(key, text, max) {
  if (typeof text !== 'string' || text.trim() === '') throw new ConfigError(`${key}: must not be empty; 1–${max} bytes`);
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > max) throw new ConfigError(`${key}: is ${bytes} bytes long; at most ${max} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) {
    throw new ConfigError(`${key}: must not hold control characters; 1–${max} bytes of text`);
  }
}

/** A channel a touch can carry: 1–64 bytes, not blank, no control characters. */
export const channel = (key, value) => name(key, value, MAX_CHANNEL_BYTES);
/** A template a touch can carry: 1–128 bytes, not blank, no control characters. */
export const template = (key, value) => name(key, value, MAX_LABEL_BYTES);

const BENEFIT_KINDS = ['coupon', 'gift', 'lottery', 'points', 'early_access'];

/** Rounds as Rust's `f64::round`: half away from zero. */
const roundHalfAway = (x) => Math.sign(x) * Math.round(Math.abs(x)) || 0;

/** Reads and checks the benefit at `key` ({ kind: 'coupon', value: 20 (yuan), gift? }):
 *  a known kind, a value from one fen to MAX_BENEFIT_YUAN (the host refuses a
 *  benefit worth nothing), a named gift for a gift, a gift name the host passes on. */
export function benefitSpec(key, raw) {
  if (jsonKind(raw) !== 'an object') throw new ConfigError(`${key}: must be an object like {"kind": "coupon", "value": 20}`);
  const unknown = Object.keys(raw).filter((k) => !['kind', 'value', 'gift'].includes(k)).sort();
  if (unknown.length) throw new ConfigError(`${key}: unknown field \`${unknown[0]}\`, expected one of gift, kind, value`);
  if (!BENEFIT_KINDS.includes(raw.kind)) {
    throw new ConfigError(`${key}.kind: unknown benefit kind ${JSON.stringify(raw.kind)}, expected one of ${BENEFIT_KINDS.join(', ')}`);
  }
  const value = raw.value ?? 0;
  if (typeof value !== 'number') throw new ConfigError(`${key}.value: must be a number of yuan`);
  if (!(Number.isFinite(value) && roundHalfAway(value * 100) >= 1 && value <= MAX_BENEFIT_YUAN)) {
    throw new ConfigError(`${key}.value: must be from 0.01 to ${MAX_BENEFIT_YUAN} yuan (is ${rustNumber(value)})`);
  }
  if (raw.gift != null) name(`${key}.gift`, raw.gift, MAX_LABEL_BYTES);
  else if (raw.kind === 'gift') {
    throw new ConfigError(`${key}.gift: a benefit of kind "gift" must name the gift; 1–${MAX_LABEL_BYTES} bytes`);
  }
  return { kind: raw.kind, value, gift: raw.gift ?? undefined };
}

/** The WIT benefit (value in fen, a BigInt) of a config value; checked as `benefitSpec`. */
export function benefit(spec, key = 'benefit') {
  const s = benefitSpec(key, spec);
  return { kind: s.kind.replace('_', '-'), value: BigInt(roundHalfAway(s.value * 100)), gift: s.gift };
}
