// Module resolution hook: `k6`, `k6/http` and `k6/metrics` resolve to the stand-ins beside this
// file; everything else (the scripts' own relative imports) resolves as usual.
const STANDINS = { k6: 'k6.mjs', 'k6/http': 'k6-http.mjs', 'k6/metrics': 'k6-metrics.mjs' };

export async function resolve(specifier, context, next) {
  const file = STANDINS[specifier];
  if (file) return { url: new URL(`./modules/${file}`, import.meta.url).href, shortCircuit: true };
  if (specifier.startsWith('k6/'))
    throw new Error(`the k6 stand-in has no ${specifier}: add it to bench/src/k6-standin or keep the scripts to k6, k6/http and k6/metrics`);
  return next(specifier, context);
}
