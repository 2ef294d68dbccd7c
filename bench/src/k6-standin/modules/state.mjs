// What the stand-in records while a script runs: every check and every metric sample.
export const state = {
  /** name → { passes, fails } */
  checks: {},
  /** { metric, type, value, tags } */
  samples: [],
  /** Names of the custom metrics the script created. */
  metrics: new Set(),
};
