// The Node compatibility layer (cli/src/node-compat.ts): the built-ins fn provides work in the
// real guest; the others stop the bundle with a message naming the module and what to use instead.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleError, bundleFunction } from '../../cli/src/bundle.js';
import { describeEachBackend } from '../../vmm/src/test-support/backends.js';
import { bodyText, compatDir, loadInGuest } from './test-support/guest.js';

describeEachBackend('Node built-ins in the guest', (backend) => {
  it('buffer, events, util, path, process.env of the invocation and process.nextTick', async () => {
    const vm = await loadInGuest(backend, 'node/node-apis.js');
    const r = JSON.parse(bodyText(await vm.invoke({ url: '/', env: { GREETING: 'hi' } })));
    expect(r).toEqual({
      base64: Buffer.from('héllo').toString('base64'),
      hex: '01ff',
      concat: 'ab',
      heard: [1, 2],
      format: 'Ada is 36 years and {"x":1}',
      inspect: '{ a: [ 1, { b: 2 } ] }',
      promisified: 42,
      isDate: true,
      join: '/a/c/d.txt',
      ext: '.gz',
      greeting: 'hi',
      written: 'yes',
      nodeEnv: 'production',
      atLoadHadSecret: false,
      order: ['sync', 'tick xy'],
    });
    // The next invocation's env is its own.
    const again = JSON.parse(bodyText(await vm.invoke({ url: '/', env: { GREETING: 'hello again' } })));
    expect(again.greeting).toBe('hello again');
  });
});

describe('Node built-ins fn does not provide', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fn-node-compat-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an import of node:fs fails at bundle time, naming the module and what to do instead', async () => {
    const err = await bundleFunction(join(compatDir, 'node/uses-fs.js')).catch((e) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect(err.message).toContain('node:fs is not available in fn functions (there is no file system in a function');
    expect(err.message).toContain('fn provides node:buffer, node:events, node:util, node:path, node:process');
  });

  it.each([
    ['net', 'use fetch()'],
    ['child_process', 'cannot start processes'],
    ['node:crypto', 'Web Crypto API'],
  ])('an import of %s fails with what fn offers instead', async (name, hint) => {
    const entry = join(dir, `${name.replace(':', '-')}.js`);
    writeFileSync(entry, `import * as m from '${name}';\nexport default { fetch: () => new Response(String(Object.keys(m).length)) };\n`);
    const err = await bundleFunction(entry).catch((e) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect(err.message).toContain(hint);
  });

  it("a dependency's require() of one bundles, and throws only when that module is loaded", async () => {
    const pkg = join(dir, 'node_modules', 'lazy-net');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"lazy-net","main":"index.js"}');
    writeFileSync(join(pkg, 'index.js'), "exports.connect = () => require('net').connect();\nexports.ok = () => 'ok';\n");
    const entry = join(dir, 'lazy.js');
    writeFileSync(
      entry,
      "import { ok, connect } from 'lazy-net';\nexport default { fetch() { let e = ''; try { connect(); } catch (err) { e = err.message; } return new Response(ok() + '|' + e); } };\n",
    );
    const bundle = await bundleFunction(entry);
    const run = new Function('Response', `${bundle.code.replace(/export\s*\{[^}]*\};?\s*$/, '')}; return lazy_default.fetch();`);
    const text = await run(Response).text();
    expect(text).toMatch(/^ok\|node:net is not available in fn functions \(there are no sockets in a function: use fetch\(\)\)/);
  });
});
