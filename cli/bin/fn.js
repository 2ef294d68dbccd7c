#!/usr/bin/env node
// The fn command line. The TypeScript sources build into ../dist (npm run build).
import('../dist/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    console.error('fn: the CLI is not built — run `npm run build` in the repository first');
  } else {
    console.error(`fn: ${err && err.message ? err.message : err}`);
  }
  process.exit(1);
});
