// A strategy on the SDK's own terms: `defineStrategy` turns an author's plain
// description into the host's three calls (describe, audienceFor, decide),
// throwing ConfigError for a refused config. Plain JavaScript: unit tests call
// it, or the author's `audience`/`decideMember`, under Node; component.js
// makes the WIT export from it.

import { ConfigError, parseConfig } from './check.js';
import { Run } from './run.js';

/** The version of the WIT package this SDK builds plugins against. */
export const API_VERSION = '0.4.0';
/** Every day at 10:00 in the brand's time zone (the default). */
export const DAILY_AT_10 = '0 10 * * *';
export const HOURLY = '0 * * * *';
export const MONTHLY_ON_THE_1ST_AT_10 = '0 10 1 * *';
/** Never on a schedule: the strategy runs only on its audience's triggers. */
export const ONLY_ON_TRIGGERS = '';

/** The strategy from its description: id, name, version, description,
 *  schedule?, defaultConfig, check?(config), audience(config),
 *  decide(run, member) and optionally decideBatch(run, members). */
export function defineStrategy(def) {
  const {
    id, name, version, description, schedule = DAILY_AT_10, defaultConfig, audience, decide,
    check = () => {},
    decideBatch = (run, members) => members.flatMap((member) => decide(run, member)),
  } = def;
  const strategy = {
    id,
    defaultConfig,
    /** Parses and checks the effective config; every call reading it comes through here. */
    configOf(raw) {
      try {
        const config = parseConfig(raw, defaultConfig);
        check(config);
        return config;
      } catch (e) {
        if (e instanceof ConfigError) throw new ConfigError(`invalid config for ${id}: ${e.message}`);
        throw e;
      }
    },
    audience,
    decideMember: decide,
    decideBatch,
    describe: () => ({
      id, name, version, apiVersion: API_VERSION, description, defaultConfig: JSON.stringify(defaultConfig), schedule,
    }),
    audienceFor: (raw) => audience(strategy.configOf(raw)),
    /** One batch, or with `context.trigger` the triggered member, through decideBatch. */
    decide: (context, members) => decideBatch(new Run(context, strategy.configOf(context.config)), members),
  };
  return strategy;
}
