// The component adapter: the `strategy` export of the WIT world that
// componentize-js builds from app.js. The SDK's values already have the
// shapes componentize-js gives the WIT types, so all it adds is the WIT
// result: a ConfigError becomes the `err` the operator reads; anything else
// is a bug in the plugin and fails the run the same way, with where it happened.
//
//   export const strategy = plugin({ id: ..., audience, decide });
//   // tests: strategy.core.decideMember(run, member)

import { ConfigError } from './check.js';
import { defineStrategy } from './strategy.js';

function asWitError(e) {
  return e instanceof ConfigError ? e.message : `${e}\n${e?.stack ?? ''}`.trim();
}

/** The WIT `strategy` export of a strategy description (see defineStrategy);
 *  `.core` is the strategy on the SDK's terms, for unit tests. */
export function plugin(def) {
  const core = defineStrategy(def);
  const wit = (call) => {
    try {
      return call();
    } catch (e) {
      throw asWitError(e);
    }
  };
  return {
    core,
    describe: () => core.describe(),
    audienceFor: (config) => wit(() => core.audienceFor(config)),
    decide: (context, members) => wit(() => core.decide(context, members)),
  };
}
