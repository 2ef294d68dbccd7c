// npm run build -w @fn/console: web/main.ts → dist/app.js (one ES2020 module, minified, with its
// source map), and web/index.html and web/app.css copied beside it. The gateway serves dist/ at /console.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const out = here('./dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [here('./web/main.ts')],
  outfile: `${out}/app.js`,
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css']) copyFileSync(here(`./web/${file}`), `${out}/${file}`);
