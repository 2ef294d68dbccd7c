// Tests of the JS prelude's semantics. The bundled prelude runs in a fresh Node `vm` context that
// has none of Node's Web globals (only ECMAScript intrinsics, as in QuickJS), with a fake
// __fn_native built on Node (crypto.randomFillSync, Buffer, TextDecoder) and a controllable clock.
// Node's own URL, Headers, TextDecoder and atob/btoa serve as the reference where they exist.
import { describe, expect, it } from 'vitest';
import vm from 'node:vm';
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundlePrelude } from '../../scripts/bundle-prelude.mjs';

const BUNDLE = bundlePrelude();
const SCRIPT = new vm.Script(BUNDLE, { filename: 'prelude.js' });
const BUNDLER = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../scripts/bundle-prelude.mjs');

// What QuickJS 2021-03-27 does not have, removed from the context so an accidental use fails here.
const REMOVE_FROM_CONTEXT = `
  for (const name of ['console', 'Intl', 'WebAssembly', 'SharedArrayBuffer', 'Atomics', 'WeakRef', 'FinalizationRegistry']) {
    delete globalThis[name];
  }
  delete Array.prototype.at; delete String.prototype.at; delete Object.hasOwn;
  delete Array.prototype.findLast; delete Array.prototype.findLastIndex;
`;

type Hooks = {
  setModule(ns: unknown, metaJson: string): void;
  invoke(metaJson: string, body: unknown): Promise<{ meta: string; body: Uint8Array | ArrayBuffer | null }>;
  nextTimer(): number;
  runTimers(): void;
  failure(name: string, message: string, stack: string): string;
};

class Sandbox {
  readonly context: vm.Context;
  readonly hooks: Hooks;
  now = 1_700_000_000_000.25;
  randomCalls = 0;

  constructor() {
    this.context = vm.createContext({});
    vm.runInContext(REMOVE_FROM_CONTEXT, this.context);
    const InnerU8 = vm.runInContext('Uint8Array', this.context) as Uint8ArrayConstructor;
    const InnerTypeError = vm.runInContext('TypeError', this.context) as TypeErrorConstructor;
    this.context.__fn_native = {
      randomFill: (u8: Uint8Array) => {
        this.randomCalls++;
        randomFillSync(u8);
      },
      now: () => this.now,
      encodeUtf8: (s: string) => {
        const bytes = Buffer.from(s, 'utf8');
        const out = new InnerU8(bytes.length);
        out.set(bytes);
        return out;
      },
      decodeUtf8: (bytes: Uint8Array | ArrayBuffer, fatal: boolean) => {
        try {
          return new TextDecoder('utf-8', { fatal, ignoreBOM: true }).decode(bytes);
        } catch {
          throw new InnerTypeError('The encoded data was not valid for encoding utf-8');
        }
      },
      info: { runtime: 'fn-test', version: '9.9.9', engine: 'node-vm', memoryBytes: 134217728, platform: 'test' },
    };
    SCRIPT.runInContext(this.context);
    this.hooks = vm.runInContext('__fn_hooks', this.context) as Hooks;
  }

  run<T = unknown>(code: string): T {
    return vm.runInContext(code, this.context) as T;
  }

  /** Evaluates an expression in the sandbox and returns it through JSON (no cross-realm objects). */
  json<T = any>(code: string): T {
    const text = vm.runInContext(`JSON.stringify((() => { ${code} })())`, this.context) as string | undefined;
    return (text === undefined ? undefined : JSON.parse(text)) as T;
  }

  /** Like json() for an async body: drives the sandbox's timers until the promise settles. */
  async jsonAsync<T = any>(code: string): Promise<T> {
    const promise = vm.runInContext(`(async () => { ${code} })().then((v) => JSON.stringify(v))`, this.context) as Promise<string | undefined>;
    const text = await this.drive(promise);
    return (text === undefined ? undefined : JSON.parse(text)) as T;
  }

  /** The C runtime's loop: let jobs run; when idle, sleep until the next timer and run it. */
  async drive<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let round = 0; round < 10_000; round++) {
      await new Promise((r) => setImmediate(r));
      if (settled) return promise;
      const next = this.hooks.nextTimer();
      if (next < 0) throw new Error('the sandbox promise never settled and no timer is pending');
      this.now = Math.max(this.now, next);
      this.hooks.runTimers();
    }
    throw new Error('the sandbox promise did not settle after 10000 timer rounds');
  }

  innerBytes(bytes: Uint8Array): ArrayBuffer {
    const out = new (vm.runInContext('Uint8Array', this.context) as Uint8ArrayConstructor)(bytes.length);
    out.set(bytes);
    return out.buffer as ArrayBuffer;
  }

  /** Loads a module namespace given as JS source of an object literal of exports. */
  setModule(exportsSource: string, meta: object = { name: 'hello', env: { GREETING: 'hi', N: 1 }, memoryMiB: 256 }): void {
    const ns = this.run(`Object.freeze(Object.assign(Object.create(null), ${exportsSource}))`);
    this.hooks.setModule(ns, JSON.stringify(meta));
  }

  async invoke(
    request: {
      method?: string;
      url?: string;
      headers?: [string, string][];
      body?: Uint8Array | string;
      deadlineMs?: number;
      invocationId?: string;
      traceparent?: string;
    } = {},
  ) {
    const meta = {
      method: request.method ?? 'GET',
      url: request.url ?? 'https://fn.test/hello',
      headers: request.headers ?? [],
      invocationId: request.invocationId ?? 'inv-1',
      deadlineMs: request.deadlineMs ?? this.now + 30_000,
      ...(request.traceparent ? { traceparent: request.traceparent } : {}),
    };
    const body = request.body === undefined ? null : this.innerBytes(typeof request.body === 'string' ? Buffer.from(request.body) : request.body);
    const out = await this.drive(this.hooks.invoke(JSON.stringify(meta), body));
    const parsed = JSON.parse(out.meta) as {
      status: number;
      headers: [string, string][];
      logs: { level: string; message: string; ms: number }[];
      error?: { name: string; message: string; stack: string };
    };
    const bytes = out.body === null ? null : Buffer.from(out.body instanceof ArrayBuffer ? new Uint8Array(out.body) : out.body);
    return { ...parsed, bytes, text: bytes === null ? null : bytes.toString('utf8') };
  }
}

// ---------------------------------------------------------------------------------------------
describe('bundle and globals', () => {
  it('bundles every part, in the order index.js imports them, into one strict script without module syntax', () => {
    const entry = readFileSync(join(fileURLToPath(new URL('.', import.meta.url)), 'index.js'), 'utf8');
    const parts = [...entry.matchAll(/^import '\.\/([\w-]+\.js)';$/gm)].map((m) => m[1]!);
    expect(parts.length).toBeGreaterThanOrEqual(10);
    expect([...parts, 'index.js', 'prelude.test.ts'].sort()).toEqual(readdirSync(fileURLToPath(new URL('.', import.meta.url))).sort());
    expect(BUNDLE).toMatch(/^\/\/ .*\n"use strict";\n\(\(\) => \{\n/);
    expect(BUNDLE.trimEnd().endsWith('})();')).toBe(true);
    expect(BUNDLE).not.toMatch(/^\s*(import|export)\s/m);
    let last = -1;
    for (const name of parts) {
      const at = BUNDLE.indexOf(`  // ${name}\n`);
      expect(at, name).toBeGreaterThan(last);
      last = at;
    }
  });

  it('uses no syntax or library feature newer than QuickJS 2021-03-27 supports', () => {
    // es2023.js, events.js and intl.js are where the newer built-ins and Intl are defined (and
    // named in their messages); the other parts must not rely on them.
    const source = files()
      .filter((f) => f.name !== 'es2023.js' && f.name !== 'events.js' && f.name !== 'intl.js')
      .map((f) => f.source.replace(/^\s*\/\/.*$/gm, ''))
      .join('\n');
    const forbidden: [RegExp, string][] = [
      [/\?\?=|\|\|=|&&=/, 'logical assignment'],
      [/\.at\(/, '.at()'],
      [/Object\.hasOwn\b/, 'Object.hasOwn'],
      [/\.replaceAll\(/, 'String.prototype.replaceAll'],
      [/\bstatic\s*\{/, 'class static block'],
      [/\b\d+_\d/, 'numeric separator'],
      [/#[A-Za-z_$][\w$]*\s+in\s/, 'ergonomic brand check'],
      [/\bWeakRef\b|\bFinalizationRegistry\b|\bIntl\./, 'unavailable global'],
      [/^\s*import\s*\(|import\.meta/m, 'dynamic import or import.meta'],
    ];
    for (const [pattern, what] of forbidden) expect(pattern.test(source), what).toBe(false);
  });

  it('starts from a context without Web globals and defines them non-enumerable', () => {
    const bare = vm.createContext({});
    vm.runInContext(REMOVE_FROM_CONTEXT, bare);
    const names = [
      'TextEncoder',
      'TextDecoder',
      'URL',
      'URLSearchParams',
      'Headers',
      'Request',
      'Response',
      'atob',
      'btoa',
      'console',
      'crypto',
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'queueMicrotask',
      'performance',
      'structuredClone',
      'DOMException',
    ];
    for (const name of names) expect(vm.runInContext(`typeof globalThis.${name}`, bare), name).toBe('undefined');

    const sb = new Sandbox();
    for (const name of names) {
      const d = sb.json(
        `const d = Object.getOwnPropertyDescriptor(globalThis, ${JSON.stringify(name)}); return d && [typeof d.value, d.enumerable, d.writable, d.configurable];`,
      );
      expect(d, name).toEqual([expect.stringMatching(/function|object/), false, true, true]);
    }
    expect(sb.json('return Object.keys(globalThis)')).toEqual([]);
    expect(sb.run('typeof __fn_native')).toBe('undefined');
    expect(sb.json('const d = Object.getOwnPropertyDescriptor(globalThis, "__fn_hooks"); return [d.enumerable, d.writable, typeof d.value.invoke]')).toEqual([
      false,
      false,
      'function',
    ]);
    expect(sb.run('navigator.userAgent')).toBe('fn-test/9.9.9');
  });

  it('keeps the names of the classes and functions it defines (bundling must not rename them)', () => {
    const sb = new Sandbox();
    const names = [
      'Headers',
      'URL',
      'URLSearchParams',
      'Request',
      'Response',
      'TextEncoder',
      'TextDecoder',
      'DOMException',
      'setTimeout',
      'structuredClone',
      'atob',
    ];
    expect(sb.json(`return [${names.join(', ')}].map((f) => f.name)`)).toEqual(names);
    expect(sb.run('String(Object.getPrototypeOf(new Headers()).constructor.name)')).toBe('Headers');
  });

  it('refuses to run without __fn_native', () => {
    const bare = vm.createContext({});
    expect(() => SCRIPT.runInContext(bare)).toThrow(/__fn_native is missing/);
  });

  it('writes the bundle with --out and refuses a part that imports what another does not export', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fn-prelude-'));
    try {
      const out = join(dir, 'nested', 'prelude.js');
      const result = spawnSync(process.execPath, [BUNDLER, '--out', out], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(BUNDLE);

      writeFileSync(join(dir, 'index.js'), "import './a.js';\nimport './b.js';\n");
      writeFileSync(join(dir, 'a.js'), 'export const a = 1;\n');
      writeFileSync(join(dir, 'b.js'), "import { c } from './a.js';\nglobalThis.b = c;\n");
      writeFileSync(join(dir, 'notes.js'), 'ignored: index.js does not import it');
      expect(() => bundlePrelude(dir)).toThrow(/b\.js:1: No matching export in "a\.js" for import "c"/);
      writeFileSync(join(dir, 'b.js'), "import { a } from './a.js';\nglobalThis.b = a;\n");
      const small = bundlePrelude(dir);
      expect(small).toContain('globalThis.b = a;');
      expect(small).not.toContain('ignored');
      const context = vm.createContext({});
      vm.runInContext(small, context);
      expect(vm.runInContext('b', context)).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function files(): { name: string; source: string }[] {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  return readdirSync(dir)
    .filter((name) => name.endsWith('.js'))
    .map((name) => ({ name, source: readFileSync(join(dir, name), 'utf8') }));
}

// ---------------------------------------------------------------------------------------------
describe('TextEncoder / TextDecoder', () => {
  const sb = new Sandbox();

  it('round-trips text and replaces lone surrogates', () => {
    const samples = ['', 'hello', 'héllo wörld', '日本語テキスト', '😀 emoji 👍🏽', '\u0000\u007f\u0080\u07ff\u0800\uffff', '\ud800', 'a\udc00b', '\ud83d'];
    for (const s of samples) {
      sb.context.__s = s;
      const bytes = sb.json<number[]>('return Array.from(new TextEncoder().encode(__s))');
      expect(bytes, JSON.stringify(s)).toEqual(Array.from(new TextEncoder().encode(s)));
      expect(sb.json('return new TextDecoder().decode(new TextEncoder().encode(__s))')).toBe(new TextDecoder().decode(new TextEncoder().encode(s)));
    }
    expect(sb.json('const e = new TextEncoder(); return [e.encoding, e.encode().length, e.encode(undefined).length]')).toEqual(['utf-8', 0, 0]);
  });

  it('encodeInto stops before a character that does not fit', () => {
    expect(sb.json('const d = new Uint8Array(5); const r = new TextEncoder().encodeInto("aé😀", d); return [r, Array.from(d)]')).toEqual([
      { read: 2, written: 3 },
      [0x61, 0xc3, 0xa9, 0, 0],
    ]);
    expect(sb.json('const d = new Uint8Array(8); return new TextEncoder().encodeInto("aé😀", d)')).toEqual({ read: 4, written: 7 });
    expect(() => sb.run('new TextEncoder().encodeInto("a", new Uint16Array(2))')).toThrow(/Uint8Array/);
  });

  it('decodes invalid sequences like the WHATWG decoder (U+FFFD, or TypeError when fatal)', () => {
    const cases = [
      [0xff],
      [0xc0, 0x80],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf0, 0x80, 0x80, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
      [0x61, 0xe2, 0x82, 0x62],
      [0xf0, 0x9f, 0x98],
      [0xc3, 0xa9, 0x80],
      [0xef, 0xbb, 0xbf, 0x61],
    ];
    for (const bytes of cases) {
      sb.context.__b = bytes;
      expect(sb.json('return new TextDecoder().decode(new Uint8Array(__b))'), bytes.join(' ')).toBe(new TextDecoder().decode(new Uint8Array(bytes)));
      const fatalNode = (() => {
        try {
          return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
        } catch {
          return 'TypeError';
        }
      })();
      expect(
        sb.json(
          'try { return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(__b)) } catch (e) { return e instanceof TypeError ? "TypeError" : String(e) }',
        ),
      ).toBe(fatalNode);
    }
  });

  it('strips the BOM unless ignoreBOM, accepts labels and any BufferSource', () => {
    expect(sb.json('return new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]))')).toBe('hi');
    expect(sb.json('return new TextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x68]))')).toBe('\ufeffh');
    expect(sb.json('const d = new TextDecoder(" UTF8 ", { fatal: 1 }); return [d.encoding, d.fatal, d.ignoreBOM]')).toEqual(['utf-8', true, false]);
    expect(
      sb.json(
        'const b = new Uint8Array([0, 0x68, 0x69, 0]); return [new TextDecoder().decode(b.buffer.slice(1, 3)), new TextDecoder().decode(new DataView(b.buffer, 1, 2)), new TextDecoder().decode()]',
      ),
    ).toEqual(['\u0000hi\u0000'.slice(1, 3), 'hi', '']);
    expect(() => sb.run('new TextDecoder("latin1")')).toThrow(/not supported/);
    expect(() => sb.run('new TextDecoder().decode("text")')).toThrow(TypeErrorFrom(sb));
  });

  it('streams: multi-byte characters split across chunks decode as a whole', () => {
    const text = 'aé😀日b';
    sb.context.__t = text;
    expect(
      sb.json(`
      const bytes = new TextEncoder().encode(__t);
      const d = new TextDecoder();
      let out = '';
      for (const b of bytes) out += d.decode(new Uint8Array([b]), { stream: true });
      return out + d.decode();
    `),
    ).toBe(text);
    // A BOM split across the first chunks is still removed, and a truncated tail at the end is U+FFFD.
    expect(
      sb.json(
        'const d = new TextDecoder(); return d.decode(new Uint8Array([0xef]), { stream: true }) + d.decode(new Uint8Array([0xbb, 0xbf, 0x41, 0xe2]), { stream: true }) + d.decode()',
      ),
    ).toBe('A\ufffd');
  });
});

function TypeErrorFrom(sb: Sandbox): ErrorConstructor {
  return sb.run('TypeError');
}

// ---------------------------------------------------------------------------------------------
describe('atob / btoa', () => {
  const sb = new Sandbox();

  it('matches the platform for valid and invalid input', () => {
    const encodeInputs = ['', 'a', 'ab', 'abc', 'hello world', '\u0000\u00ff\u0080', String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))];
    for (const s of encodeInputs) {
      sb.context.__s = s;
      expect(sb.json('return btoa(__s)')).toBe(btoa(s));
      expect(sb.json('return atob(btoa(__s))')).toBe(s);
    }
    const decodeInputs = ['', 'YQ', 'YQ=', 'YQ==', 'YWI', 'YWJj', ' Y W J j \n', 'YQ===', 'Y', 'YQ=a', '@@@@', 'aGVsbG8=', 'aGVsbG8', 'ab=c', 'YR==', '////'];
    for (const s of decodeInputs) {
      sb.context.__s = s;
      let expected: string;
      try {
        expected = atob(s);
      } catch (e) {
        expected = `throws ${(e as DOMException).name}`;
      }
      const actual = sb.json('try { return atob(__s) } catch (e) { return (e instanceof DOMException ? "throws " : "wrong ") + e.name }');
      expect(actual, JSON.stringify(s)).toBe(expected);
    }
  });

  it('throws an InvalidCharacterError DOMException for non-Latin1 input', () => {
    expect(
      sb.json('try { btoa("é€") } catch (e) { return [e instanceof DOMException, e instanceof Error, e.name, e.code, /Latin1/.test(e.message)] }'),
    ).toEqual([true, true, 'InvalidCharacterError', 5, true]);
    expect(() => sb.run('atob()')).toThrow(/1 argument required/);
  });
});

// ---------------------------------------------------------------------------------------------
describe('Headers', () => {
  const sb = new Sandbox();

  it('behaves like the platform Headers for a sequence of operations', () => {
    const script = (H: typeof Headers) => {
      const h = new H({ 'Content-Type': 'text/plain', 'X-Multi': 'a' });
      h.append('x-multi', ' b ');
      h.append('Set-Cookie', 'a=1; Path=/');
      h.append('set-cookie', 'b=2');
      h.append('Accept', '*/*');
      const out: unknown[] = [h.get('X-MULTI'), h.get('missing'), h.has('CONTENT-type'), h.getSetCookie(), [...h], [...h.keys()], [...h.values()]];
      h.set('x-multi', 'c');
      h.delete('accept');
      out.push([...h.entries()]);
      const seen: string[] = [];
      h.forEach((v, k, self) => seen.push(`${k}=${v}:${self === h}`));
      out.push(
        seen,
        [...new H(h)],
        [
          ...new H([
            ['a', '1'],
            ['A', '2'],
          ]),
        ],
        h.get('set-cookie'),
      );
      return out;
    };
    const expected = JSON.parse(JSON.stringify(script(Headers)));
    expect(sb.json(`return (${script.toString()})(Headers)`)).toEqual(expected);
  });

  it('rejects invalid names and values with TypeError', () => {
    for (const code of [
      'new Headers({ "bad name": "x" })',
      'new Headers().append("x", "a\\r\\nb")',
      'new Headers().set("ok", "\\u20ac")',
      'new Headers([["only-one"]])',
      'new Headers("x: y")',
      'new Headers().get("")',
      'new Headers(null)',
    ]) {
      expect(() => sb.run(code), code).toThrow(TypeErrorFrom(sb));
    }
  });

  it('copies another Headers as iterating it gives, even when its iterator was replaced', () => {
    expect(
      sb.json(`
      const h = new Headers([['b', '1'], ['a', '2'], ['B', '3'], ['set-cookie', 'x'], ['set-cookie', 'y']]);
      const copy = [...new Headers(h)];
      const patched = new Headers({ a: '1' });
      patched[Symbol.iterator] = function* () { yield ['z', '9']; };
      return [copy, [...new Headers(patched)], [...new Response(null, { headers: h }).headers].length];
    `),
    ).toEqual([
      [
        ['a', '2'],
        ['b', '1, 3'],
        ['set-cookie', 'x'],
        ['set-cookie', 'y'],
      ],
      [['z', '9']],
      4,
    ]);
  });

  it('iterators see changes made during iteration', () => {
    expect(
      sb.json(`
      const h = new Headers([['b', '1'], ['d', '2']]);
      const seen = [];
      for (const [k] of h) { seen.push(k); if (k === 'b') h.append('c', '3'); }
      return [seen, Object.prototype.toString.call(h.entries()), Object.prototype.toString.call(h), typeof h[Symbol.iterator]().next];
    `),
    ).toEqual([['b', 'c', 'd'], '[object Headers Iterator]', '[object Headers]', 'function']);
  });
});

// ---------------------------------------------------------------------------------------------
describe('URL', () => {
  const sb = new Sandbox();
  const PROPS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const;
  const BASE = 'http://a/b/c/d;p?q';
  const INPUTS: [string, string?][] = [
    ['http://example.com'],
    ['HTTP://EXAMPLE.COM:80/'],
    ['https://example.com:443/x'],
    ['https://example.com:8443/x'],
    ['g', BASE],
    ['./g', BASE],
    ['g/', BASE],
    ['/g', BASE],
    ['//g', BASE],
    ['?y', BASE],
    ['g?y', BASE],
    ['#s', BASE],
    ['g#s', BASE],
    ['../g', BASE],
    ['../../../g', BASE],
    ['.', BASE],
    ['..', BASE],
    ['', BASE + '#f'],
    ['g;x=1/../y', BASE],
    ['http://user:pass@host.com:8080/p/a/t/h?query=string#hash'],
    ['http://@host/'],
    ['http://a:b@c:d/'],
    ['http://[::1]:3000/x'],
    ['http://[2001:db8:0:0:0:0:2:1]/'],
    ['http://[::ffff:192.168.0.1]/'],
    ['http://[1:0:0:2::3:0]/'],
    ['http://[::]/'],
    ['http://[zz::1]/'],
    ['http://192.168.0.1/'],
    ['http://0x7f.0.0.1/'],
    ['http://0177.0.0.1/'],
    ['http://2130706433/'],
    ['http://256.0.0.1/'],
    ['http://1.2.3.4.5/'],
    ['http://1.2.3.09/'],
    ['http://foo.09/'],
    ['http://example.com./'],
    ['http://ex ample.com/'],
    ['http://ex%41mple.com/'],
    ['http://münchen.de/'],
    ['http://例子.测试/path'],
    ['http://a.b。c/'],
    ['http://example.com/a b/c"d<e>f`g{h}i|j^k'],
    ['http://example.com/?a b"c<d>e\'f`g#h i"j<k>l`m'],
    ["foo://example.com/?a b'c"],
    ['http://example.com/%2e/x'],
    ['http://example.com/%2E%2e/x'],
    ['http://example.com/a/./b/../../c'],
    ['http://example.com\\a\\b'],
    ['http://example.com/é?é#é'],
    ['http://example.com/\ud83d\ude00'],
    ['http://example.com/\ud800'],
    ['mailto:someone@example.com'],
    ['data:text/plain,hello world'],
    ['urn:isbn:0451450523'],
    ['foo://host/path'],
    ['foo:///path'],
    ['foo://'],
    ['foo:/a/../b'],
    ['foo:/.//p'],
    ['sc://ñ/'],
    ['sc://%/'],
    ['sc://a b/'],
    ['file:///C:/Windows/x'],
    ['file://localhost/etc/passwd'],
    ['file:///etc/../passwd'],
    ['file:c:\\foo\\bar'],
    ['file://host/share'],
    ['ws://x.test:80/'],
    ['wss://x.test:443/'],
    ['ftp://x.test:21/'],
    ['http://x.test:65535/'],
    ['http://x.test:65536/'],
    ['http://x.test:0/'],
    ['http://x.test:/'],
    ['http://x.test:08/'],
    ['http:example.com/'],
    ['http:/example.com/'],
    ['https:\\\\example.com'],
    ['  http://trim.test/  '],
    ['http://ta\tb\nc.test/'],
    ['foo'],
    [''],
    ['//x.test/p', 'https://base.test/'],
    ['http:'],
    ['http://'],
    ['http:///x'],
    ['http://a@/'],
    ['blob:https://example.com/uuid'],
    ['http://example.com/?'],
    ['http://example.com/#'],
    ['/path', 'mailto:x@y'],
    ['#frag', 'mailto:x@y'],
    ['http://%zz.com/'],
    ['http://a%2Fb.com/'],
    ['http://[::1.2.3.4]/'],
    ['non-spec:/.//'],
    ['http://1.2.3/'],
    ['http://0x100000000/'],
    ['http://4294967295/'],
    ['http://4294967296/'],
    ['HTTP://Ex.COM/%7e'],
    ['x', 'not a base'],
  ];

  it('parses a table of inputs exactly like the platform URL', () => {
    for (const [input, base] of INPUTS) {
      let expected: unknown;
      try {
        const u = base === undefined ? new URL(input) : new URL(input, base);
        expected = PROPS.map((p) => u[p]);
      } catch {
        expected = 'throws TypeError';
      }
      sb.context.__args = base === undefined ? [input] : [input, base];
      const actual = sb.json(
        `try { const u = new URL(...__args); return ${JSON.stringify(PROPS)}.map((p) => u[p]); } catch (e) { return e instanceof TypeError ? 'throws TypeError' : String(e); }`,
      );
      expect(actual, `${JSON.stringify(input)} against ${base}`).toEqual(expected);
    }
  });

  it('applies setters exactly like the platform URL', () => {
    const cases: [string, string, string][] = [
      ['http://a.test/p?q#h', 'protocol', 'https'],
      ['http://a.test/p', 'protocol', 'foo'],
      ['foo://a/p', 'protocol', 'http'],
      ['http://a.test:443/', 'protocol', 'https:'],
      ['http://u@a.test/', 'protocol', 'file'],
      ['http://a.test/', 'username', 'us er@:'],
      ['http://a.test/', 'password', 'p:w/d'],
      ['file:///x', 'username', 'u'],
      ['http://a.test:1/', 'host', 'b.test:2'],
      ['http://a.test:1/', 'host', 'b.test:99999'],
      ['http://a.test:1/', 'host', ''],
      ['http://a.test/', 'host', 'b.test/path'],
      ['http://a.test:1/', 'hostname', 'b.test:2'],
      ['http://a.test/', 'hostname', '[::1]'],
      ['mailto:x', 'host', 'y'],
      ['foo://a/', 'host', ''],
      ['http://a.test/', 'port', '8080abc'],
      ['http://a.test:8080/', 'port', ''],
      ['http://a.test/', 'port', '80'],
      ['http://a.test/', 'port', '99999'],
      ['http://a.test/x', 'pathname', 'a b/../c?d#e'],
      ['mailto:x', 'pathname', 'y'],
      ['foo://a/x', 'pathname', ''],
      ['foo:/x', 'pathname', '//y'],
      ['http://a.test/?x', 'search', 'a=1 2&b=é'],
      ['http://a.test/?x', 'search', ''],
      ['http://a.test/', 'search', '?#'],
      ['data:x  ?q', 'search', ''],
      ['http://a.test/#x', 'hash', 'a b'],
      ['http://a.test/#x', 'hash', ''],
      ['data:x  #f', 'hash', ''],
      ['http://a.test/', 'href', 'https://b.test/z?k=v'],
      ['file://h/x', 'hostname', 'localhost'],
    ];
    const props = ['href', 'host', 'port', 'pathname', 'search', 'hash', 'username', 'password'];
    for (const [input, prop, value] of cases) {
      const u = new URL(input) as unknown as Record<string, string>;
      u[prop] = value;
      sb.context.__case = [input, prop, value];
      const actual = sb.json(`const u = new URL(__case[0]); u[__case[1]] = __case[2]; return ${JSON.stringify(props)}.map((p) => u[p]);`);
      expect(actual, `${input} .${prop} = ${JSON.stringify(value)}`).toEqual(props.map((p) => u[p]));
    }
    expect(() => sb.run('new URL("http://a.test/").href = "nope"')).toThrow(/Invalid URL/);
  });

  it('throws TypeError "Invalid URL", and offers canParse, parse and toJSON', () => {
    expect(sb.json('try { new URL("/relative") } catch (e) { return [e instanceof TypeError, e.message, e.input] }')).toEqual([
      true,
      'Invalid URL: "/relative"',
      '/relative',
    ]);
    expect(sb.json('return [URL.canParse("x"), URL.canParse("x", "https://a.test/"), URL.parse("x"), String(URL.parse("/y", "https://a.test/x"))]')).toEqual([
      false,
      true,
      null,
      'https://a.test/y',
    ]);
    expect(sb.json('return { u: new URL("https://a.test/p?q=1") }')).toEqual({ u: 'https://a.test/p?q=1' });
  });

  it('takes the fast path for serialized http(s) URLs with the same result as the full parser', () => {
    // Without a base, strings in serialized form skip the state machine; with an (unused) base the
    // full parser runs. Both must agree with each other and with the platform on every input,
    // including the near misses the fast path must leave to the parser.
    const inputs = [
      'https://fn.example.com/',
      'http://localhost/x',
      'https://a-b.c1.example/p/q/?x=1&y=%20z',
      'http://a/?',
      'http://a/p?',
      'http://127.0.0.1/',
      'http://255.255.255.255:8080/x',
      'http://256.1.1.1/',
      'http://1.2.3.04/',
      'http://01.2.3.4/',
      'http://0x7f.0.0.1/',
      'http://a.0x10/',
      'http://a.12/',
      'http://a.b1/',
      'http://xn--nxasmq6b.example/',
      'http://a..b/',
      'http://a.b./',
      'http://A.example/',
      'HTTP://a.example/',
      'http://a:80/',
      'https://a:443/',
      'http://a:443/',
      'https://a:80/',
      'http://a:0/',
      'http://a:00/',
      'http://a:65535/',
      'http://a:65536/',
      'http://a:99999/',
      'http://a:/',
      'http://a',
      'http://a/./b',
      'http://a/../b',
      'http://a/b/.',
      'http://a/b/..',
      'http://a/%2e/b',
      'http://a/%2E%2e',
      'http://a/.%2e/c',
      'http://a/...',
      'http://a/.x/..y/',
      'http://a/b//c',
      'http://a/%',
      'http://a/%zz',
      "http://a/!$&'()*+,;=:@~_-.",
      'http://a/b c',
      'http://a/b"c',
      'http://a/b|c',
      'http://a/b\\c',
      'http://a/b^c',
      'http://a/é',
      'http://a/?a b',
      "http://a/?'",
      'http://a/?"',
      'http://a/?<>',
      'http://a/?[]{}|\\^`',
      'http://a/?é',
      'http://a/#f',
      'http://a/?q#f',
      'http://u@a/',
      'http://u:p@a/',
      ' http://a/',
      'http://a/ ',
      'http://a/\tb',
      'https://-a.b/',
      'https://a-/',
    ];
    const props = ['href', 'protocol', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const;
    for (const input of inputs) {
      let expected: unknown;
      try {
        const u = new URL(input);
        expected = props.map((p) => u[p]);
      } catch {
        expected = 'throws';
      }
      sb.context.__input = input;
      const read = (expr: string) => sb.json(`try { const u = ${expr}; return ${JSON.stringify(props)}.map((p) => u[p]); } catch (e) { return 'throws'; }`);
      const fast = read('new URL(__input)');
      expect(fast, `${JSON.stringify(input)}: fast path vs full parser`).toEqual(read('new URL(__input, "foo://unused/")'));
      expect(fast, `${JSON.stringify(input)}: against the platform`).toEqual(expected);
    }
  });

  it('gives searchParams the query as it is when first asked for', () => {
    expect(
      sb.json(`
      const a = new URL('http://a.test/?x=1');
      a.search = '?y=a b+c&z=%41#';
      const b = new URL('http://a.test/?x=1');
      b.href = 'http://b.test/?k=v&k=w';
      const c = URL.parse('http://c.test/?q=1');
      c.searchParams.append('r', '2');
      return [[...a.searchParams], a.href, [...b.searchParams], b.searchParams.getAll('k'), c.href, a.searchParams === a.searchParams];
    `),
    ).toEqual([
      [
        ['y', 'a b c'],
        ['z', 'A#'],
      ],
      'http://a.test/?y=a%20b+c&z=%41%23',
      [
        ['k', 'v'],
        ['k', 'w'],
      ],
      ['v', 'w'],
      'http://c.test/?q=1&r=2',
      true,
    ]);
  });

  it('keeps searchParams live in both directions', () => {
    expect(
      sb.json(`
      const u = new URL('http://a.test/?b=2&a=1');
      const p = u.searchParams;
      p.append('c', 'x y');
      p.sort();
      const first = [u.href, p.size, u.searchParams === p];
      u.search = '?z=%20+1';
      const second = [p.get('z'), [...p.keys()]];
      p.delete('z');
      u.hash = 'frag';
      return [first, second, u.href];
    `),
    ).toEqual([['http://a.test/?a=1&b=2&c=x+y', 3, true], ['  1', ['z']], 'http://a.test/#frag']);
  });
});

describe('URLSearchParams', () => {
  const sb = new Sandbox();

  it('matches the platform for parsing, serialising and editing', () => {
    const script = (P: typeof URLSearchParams) => {
      const out: unknown[] = [];
      out.push(new P({ a: '1', b: "é ~!*()'." }).toString());
      const p = new P([
        ['a', '1'],
        ['a', '2'],
        ['b', '3'],
      ]);
      p.set('a', '9');
      out.push(p.toString(), p.getAll('a'), p.has('b', '3'), p.has('b', '4'), p.get('nope'));
      out.push([...new P('?a=1&&b=%zz&c=%E2%82%AC&d&=e&f=%C3&g=a+b')].map((x) => x.join('=')));
      const q = new P('a=1&b=2&a=3');
      q.delete('a', '3');
      out.push(q.toString(), q.size);
      const s = new P('z=1&a=2&z=0&a=1&\u00e9=x&Z=y');
      s.sort();
      out.push(s.toString());
      const seen: string[] = [];
      new P('x=1&y=2').forEach((v, k) => seen.push(k + v));
      out.push(seen, [...new P(new P('k=v'))], new P('a=\ud800').toString(), String(new P()));
      return out;
    };
    expect(sb.json(`return (${script.toString()})(URLSearchParams)`)).toEqual(JSON.parse(JSON.stringify(script(URLSearchParams))));
    expect(() => sb.run('new URLSearchParams([["a"]])')).toThrow(/pair/);
  });
});

// ---------------------------------------------------------------------------------------------
describe('Request and Response', () => {
  const sb = new Sandbox();

  it('Response bodies: strings, bytes, JSON, URLSearchParams and their content types', async () => {
    expect(
      await sb.jsonAsync(`
      const r = new Response('héllo');
      const type = r.headers.get('content-type');
      const text = await r.text();
      return [type, text, r.bodyUsed, r.status, r.ok, r.statusText];
    `),
    ).toEqual(['text/plain;charset=UTF-8', 'héllo', true, 200, true, '']);
    expect(
      await sb.jsonAsync(`
      const src = new Uint8Array([1, 2, 3]);
      const r = new Response(src, { status: 201, statusText: 'Created', headers: { 'X-A': 'b' } });
      src[0] = 99; // the body is a copy
      return [r.headers.get('content-type'), Array.from(new Uint8Array(await r.arrayBuffer())), r.status, r.statusText, r.headers.get('x-a')];
    `),
    ).toEqual([null, [1, 2, 3], 201, 'Created', 'b']);
    expect(
      await sb.jsonAsync(`
      const r = Response.json({ a: [1, 'x'] }, { status: 202, headers: { 'x-y': 'z' } });
      return [r.headers.get('content-type'), await r.json(), r.status];
    `),
    ).toEqual(['application/json', { a: [1, 'x'] }, 202]);
    expect(
      await sb.jsonAsync(`
      const r = new Response(new URLSearchParams({ a: 'b c' }));
      return [r.headers.get('content-type'), await r.text()];
    `),
    ).toEqual(['application/x-www-form-urlencoded;charset=UTF-8', 'a=b+c']);
    expect(await sb.jsonAsync(`const r = new Response(null, { status: 204 }); return [await r.text(), r.bodyUsed];`)).toEqual(['', false]);
  });

  it('a body can be read once; clone() gives an independent copy', async () => {
    expect(
      await sb.jsonAsync(`
      const r = new Response('once');
      const c = r.clone();
      const a = await r.text();
      let second;
      try { await r.text(); } catch (e) { second = [e instanceof TypeError, /already been read/.test(e.message)]; }
      let cloneAfter;
      try { r.clone(); } catch (e) { cloneAfter = e instanceof TypeError; }
      return [a, second, await c.text(), cloneAfter];
    `),
    ).toEqual(['once', [true, true], 'once', true]);
  });

  it('validates status, statusText, null-body statuses and redirects', async () => {
    expect(() => sb.run('new Response("", { status: 99 })')).toThrow(sb.run('RangeError'));
    expect(() => sb.run('new Response("", { status: 600 })')).toThrow(/outside the range 200 to 599/);
    expect(() => sb.run('new Response("x", { status: 204 })')).toThrow(/cannot have a body/);
    expect(() => sb.run('new Response("", { statusText: "a\\nb" })')).toThrow(TypeErrorFrom(sb));
    expect(() => sb.run('Response.json(undefined)')).toThrow(/cannot be serialized/);
    expect(sb.json('const r = Response.redirect("https://a.test/x y", 301); return [r.status, r.headers.get("location")]')).toEqual([
      301,
      'https://a.test/x%20y',
    ]);
    expect(() => sb.run('Response.redirect("https://a.test/", 200)')).toThrow(sb.run('RangeError'));
    expect(sb.json('const r = Response.error(); return [r.type, r.status, r.ok]')).toEqual(['error', 0, false]);
    expect(() => sb.run('Response.json({}, { status: 204 })')).toThrow(/status 204 cannot have a body/);
    expect(() => sb.run('Response.json({}, { status: 99 })')).toThrow(sb.run('RangeError'));
  });

  it('adds the content type a body implies only when the headers have none', () => {
    expect(
      sb.json(`return [
      [...Response.json({}, { headers: { 'Content-Type': 'text/x' } }).headers],
      [...Response.json({}, { headers: [['x-a', '1']] }).headers],
      [...new Response('x', { headers: [['x-a', '1']] }).headers],
      [...new Response('x', { headers: new Headers({ 'content-type': 'a/b' }) }).headers],
      [...new Response(new Uint8Array(1)).headers],
      [...new Response(null, { headers: { 'x-b': '2' } }).headers],
      [...new Request('https://a.test/', { method: 'POST', body: 'x', headers: { 'x-c': '3' } }).headers],
    ]`),
    ).toEqual([
      [['content-type', 'text/x']],
      [
        ['content-type', 'application/json'],
        ['x-a', '1'],
      ],
      [
        ['content-type', 'text/plain;charset=UTF-8'],
        ['x-a', '1'],
      ],
      [['content-type', 'a/b']],
      [],
      [['x-b', '2']],
      [
        ['content-type', 'text/plain;charset=UTF-8'],
        ['x-c', '3'],
      ],
    ]);
  });

  it('Request: methods, URL, headers, bodies and clone', async () => {
    expect(
      await sb.jsonAsync(`
      const r = new Request('https://a.test/p?q', { method: 'post', headers: [['X-A', '1']], body: 'hi' });
      const c = r.clone();
      return [r.method, r.url, r.headers.get('x-a'), r.headers.get('content-type'), await r.text(), r.bodyUsed, await c.text(), r.redirect];
    `),
    ).toEqual(['POST', 'https://a.test/p?q', '1', 'text/plain;charset=UTF-8', 'hi', true, 'hi', 'follow']);
    expect(
      sb.json(
        'return [new Request("https://a.test", { method: "patch" }).method, new Request("https://a.test", { method: "delete" }).method, new Request("https://a.test").method]',
      ),
    ).toEqual(['patch', 'DELETE', 'GET']);
    expect(() => sb.run('new Request("https://a.test", { body: "x" })')).toThrow(/GET request cannot have a body/);
    expect(() => sb.run('new Request("/relative")')).toThrow(/absolute URL/);
    expect(() => sb.run('new Request("https://a.test", { method: "TRACE" })')).toThrow(/not allowed/);
    expect(() => sb.run('new Request("https://a.test", { method: "bad method" })')).toThrow(/not a valid HTTP method/);
    expect(
      await sb.jsonAsync(`
      const a = new Request('https://a.test/', { method: 'PUT', body: new Uint8Array([7, 8]).buffer, headers: { 'x-k': 'v' } });
      const b = new Request(a, { headers: { 'x-other': '1' } });
      const c = new Request('https://b.test/', a);
      return [b.method, b.url, b.headers.get('x-k'), b.headers.get('x-other'), Array.from(await b.bytes()), c.url, c.method, await c.text()];
    `),
    ).toEqual(['PUT', 'https://a.test/', null, '1', [7, 8], 'https://b.test/', 'PUT', '\u0007\b']);
    expect(
      await sb.jsonAsync(`
      try { await new Request('https://a.test/', { method: 'POST', body: 'x' }).formData(); } catch (e) { return e.message; }
    `),
    ).toBe('Request.formData(): the content type must be multipart/form-data or application/x-www-form-urlencoded, not "text/plain;charset=utf-8"');
    expect(() => sb.run('new Response({ getReader() {} })')).toThrow(/ReadableStream is not supported/);
  });

  it('carries a 5 MB body intact', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 8)) & 0xff;
    sb.context.__big = sb.innerBytes(big);
    const sum = await sb.jsonAsync(`
      const r = new Response(new Uint8Array(__big));
      const bytes = new Uint8Array(await r.clone().arrayBuffer());
      let s = 0;
      for (let i = 0; i < bytes.length; i++) s = (s * 31 + bytes[i]) >>> 0;
      const text = 'x'.repeat(5 * 1024 * 1024);
      return [bytes.length, s, (await new Response(text).text()).length];
    `);
    let expected = 0;
    for (let i = 0; i < big.length; i++) expected = (expected * 31 + big[i]!) >>> 0;
    expect(sum).toEqual([big.length, expected, 5 * 1024 * 1024]);
  });
});

// ---------------------------------------------------------------------------------------------
describe('console', () => {
  it('captures levels, formatting, cycles and errors into the invocation log', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { async fetch() {
      console.log('plain', 1, -0, 2n, true, null, undefined, Symbol('s'));
      console.info('%s is %d years, %i days, %f%%, %j %o%c.', 'Ann', '42.5', 7.9, '1.5', { a: 1 }, [1], 'color: red');
      const cyclic = { name: 'loop', list: [1, 'two'] };
      cyclic.self = cyclic;
      cyclic.list.push(cyclic);
      console.warn(cyclic);
      console.error(new RangeError('bad range'));
      console.debug({ a: { b: { c: { d: 1 } } } }, new Map([['k', 1]]), new Set([1]), [1, , 3], new Uint8Array([1, 2]));
      console.log(function named() {}, class K {}, new Date(0), /re/g, Object.create(null), new (class Point { constructor() { this.x = 1; } })());
      console.log({ get g() { throw new Error('getter must not run'); } }, 'missing %s', '100%%');
      console.trace('here');
      console.assert(1 === 2, 'math is %s', 'broken');
      console.assert(true, 'not logged');
      return new Response('ok');
    } } }`);
    const out = await sb.invoke();
    expect(out.status).toBe(200);
    const byIndex = out.logs.map((l) => [l.level, l.message]);
    expect(byIndex[0]).toEqual(['log', 'plain 1 -0 2n true null undefined Symbol(s)']);
    expect(byIndex[1]).toEqual(['info', 'Ann is 42.5 years, 7 days, 1.5%, {"a":1} [ 1 ].']);
    expect(byIndex[2]).toEqual(['warn', "{ name: 'loop', list: [ 1, 'two', [Circular] ], self: [Circular] }"]);
    expect(byIndex[3]![0]).toBe('error');
    expect(byIndex[3]![1]).toMatch(/^RangeError: bad range\n\s+at /);
    expect(byIndex[4]).toEqual(['debug', "{ a: { b: { c: [Object] } } } Map(1) { 'k' => 1 } Set(1) { 1 } [ 1, <empty>, 3 ] Uint8Array(2) [ 1, 2 ]"]);
    expect(byIndex[5]).toEqual(['log', '[Function: named] [class K] 1970-01-01T00:00:00.000Z /re/g [Object: null prototype] {} Point { x: 1 }']);
    expect(byIndex[6]).toEqual(['log', '{ g: [Getter] } missing %s 100%%']);
    expect(byIndex[7]![0]).toBe('trace');
    expect(byIndex[7]![1]).toMatch(/^Trace: here\n\s+at /);
    expect(byIndex[8]).toEqual(['error', 'Assertion failed: math is broken']);
    expect(out.logs).toHaveLength(9);
    for (const log of out.logs) expect(log.ms).toBe(0); // the fake clock did not move
  });

  it('stamps each entry with ms since the invocation started', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { async fetch() {
      console.log('start');
      await new Promise((r) => setTimeout(r, 25));
      console.log('after 25ms');
      return new Response(String(performance.now()));
    } } }`);
    const out = await sb.invoke();
    expect(out.logs.map((l) => [l.message, l.ms])).toEqual([
      ['start', 0],
      ['after 25ms', 25],
    ]);
    expect(out.text).toBe('25');
  });

  it('caps logs at 256 KiB per invocation with one "[logs truncated]" entry, and starts fresh next time', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { async fetch(request) {
      const n = Number(new URL(request.url).searchParams.get('n'));
      const line = 'é'.repeat(500); // 1000 bytes of UTF-8
      for (let i = 0; i < n; i++) console.log(line);
      return new Response('done');
    } } }`);
    const out = await sb.invoke({ url: 'https://fn.test/?n=1000' });
    const last = out.logs[out.logs.length - 1]!;
    // 1000 lines: 262 whole, one cut short, 737 dropped, and the marker says so.
    expect(last).toMatchObject({ level: 'warn', message: '[logs truncated: 737 more line(s) dropped]' });
    expect(out.logs.filter((l) => l.message.startsWith('[logs truncated'))).toHaveLength(1);
    const bytes = out.logs.slice(0, -1).reduce((n, l) => n + Buffer.byteLength(l.message), 0);
    expect(bytes).toBeLessThanOrEqual(256 * 1024);
    expect(bytes).toBeGreaterThan(256 * 1024 - 4);
    expect(out.logs.length).toBe(264); // 262 whole lines, one cut short, the marker

    const next = await sb.invoke({ url: 'https://fn.test/?n=2' });
    expect(next.logs).toHaveLength(2);
    expect(next.logs[0]!.message).toHaveLength(500);
  });
});

// ---------------------------------------------------------------------------------------------
describe('crypto', () => {
  const sb = new Sandbox();

  it('getRandomValues fills integer arrays from native randomness and returns them', () => {
    const before = sb.randomCalls;
    expect(
      sb.json(`
      const a = new Uint32Array(16);
      const same = crypto.getRandomValues(a) === a;
      const b = crypto.getRandomValues(new BigUint64Array(2));
      const view = new Uint8Array(new ArrayBuffer(8), 2, 4);
      crypto.getRandomValues(view);
      return [same, a.some((x) => x !== 0), typeof b[0], new Uint8Array(view.buffer)[0], new Uint8Array(view.buffer)[7]];
    `),
    ).toEqual([true, true, 'bigint', 0, 0]);
    expect(sb.randomCalls - before).toBe(3);
  });

  it('rejects non-integer arrays and more than 65536 bytes with DOMExceptions', () => {
    expect(sb.json('try { crypto.getRandomValues(new Float64Array(2)) } catch (e) { return [e instanceof DOMException, e.name] }')).toEqual([
      true,
      'TypeMismatchError',
    ]);
    expect(sb.json('try { crypto.getRandomValues([1, 2]) } catch (e) { return e.name }')).toBe('TypeMismatchError');
    expect(sb.json('try { crypto.getRandomValues(new Uint8Array(65537)) } catch (e) { return [e.name, e.code] }')).toEqual(['QuotaExceededError', 22]);
    expect(sb.json('return crypto.getRandomValues(new Uint8Array(65536)).length')).toBe(65536);
  });

  it('randomUUID returns distinct version 4 UUIDs', () => {
    const ids = sb.json<string[]>('return Array.from({ length: 2000 }, () => crypto.randomUUID())');
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(sb.run('Object.prototype.toString.call(crypto)')).toBe('[object Crypto]');
  });
});

// ---------------------------------------------------------------------------------------------
describe('timers', () => {
  it('fire in due order, pass arguments, can be cleared, and intervals repeat', async () => {
    const sb = new Sandbox();
    const order = await sb.jsonAsync(`
      const order = [];
      setTimeout((a, b) => order.push('t30:' + a + b), 30, 'x', 'y');
      setTimeout(() => order.push('t10'), 10);
      const cancelled = setTimeout(() => order.push('cancelled'), 5);
      setTimeout(() => order.push('t10-second'), 10);
      setTimeout(() => order.push('t0'));
      queueMicrotask(() => order.push('micro'));
      clearTimeout(cancelled);
      let n = 0;
      const iv = setInterval(() => { order.push('iv' + ++n); if (n === 3) clearInterval(iv); }, 12);
      await new Promise((r) => setTimeout(r, 100));
      return order;
    `);
    expect(order).toEqual(['micro', 't0', 't10', 't10-second', 'iv1', 'iv2', 't30:xy', 'iv3']);
  });

  it('report the next due time, run only due timers, and reject string callbacks', () => {
    const sb = new Sandbox();
    const start = sb.now;
    expect(sb.hooks.nextTimer()).toBe(-1);
    sb.run('globalThis.__hits = []; setTimeout(() => __hits.push("b"), 50); setTimeout(() => __hits.push("a"), 20);');
    expect(sb.hooks.nextTimer()).toBe(start + 20);
    sb.hooks.runTimers();
    expect(sb.json('return __hits')).toEqual([]);
    sb.now = start + 20;
    sb.hooks.runTimers();
    expect(sb.json('return __hits')).toEqual(['a']);
    expect(sb.hooks.nextTimer()).toBe(start + 50);
    // A zero-delay interval must not make runTimers spin.
    sb.run('globalThis.__spins = 0; setInterval(() => __spins++, 0);');
    sb.now = start + 100;
    sb.hooks.runTimers();
    expect(sb.json('return [__hits, __spins]')).toEqual([['a', 'b'], 1]);
    expect(() => sb.run('setTimeout("alert(1)", 1)')).toThrow(/callback must be a function/);
  });

  it('do not outlive their invocation', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { async fetch() {
      setTimeout(() => console.log('too late'), 1000);
      setInterval(() => {}, 5);
      return new Response('quick');
    } } }`);
    sb.run('setTimeout(() => {}, 1)'); // left over from module init: dropped when the invocation starts
    const out = await sb.invoke();
    expect(out.text).toBe('quick');
    expect(sb.hooks.nextTimer()).toBe(-1);
    expect(out.logs).toEqual([]);
  });
});

describe('structuredClone', () => {
  const sb = new Sandbox();

  it('deep-copies plain data with shared and circular references', () => {
    expect(
      sb.json(`
      const shared = { n: 1 };
      const src = { a: [shared, shared], m: new Map([['k', new Set([1])]]), d: new Date(5), bytes: new Uint8Array([1, 2]), big: 10n };
      src.self = src;
      const c = structuredClone(src);
      return [c !== src, c.self === c, c.a[0] === c.a[1], c.a[0] !== shared, c.m.get('k').has(1), c.d.getTime(), Array.from(c.bytes), c.bytes.buffer !== src.bytes.buffer, typeof c.big];
    `),
    ).toEqual([true, true, true, true, true, 5, [1, 2], true, 'bigint']);
  });

  it('explains what cannot be cloned', () => {
    expect(sb.json('try { structuredClone({ f() {} }) } catch (e) { return [e.name, /could not be cloned/.test(e.message)] }')).toEqual([
      'DataCloneError',
      true,
    ]);
    expect(sb.json('try { structuredClone(new (class Foo {})()) } catch (e) { return [e.name, /Foo/.test(e.message)] }')).toEqual(['DataCloneError', true]);
  });
});

// ---------------------------------------------------------------------------------------------
describe('invoke: fetch handlers', () => {
  it('ctx.traceparent and ctx.traceId carry the invocation’s trace (empty when it has none), read-only, in both handler styles', async () => {
    const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const sb = new Sandbox();
    sb.setModule(`{ default: { fetch(request, env, ctx) {
      const before = ctx.traceId;
      try { ctx.traceId = 'forged'; } catch {}
      return Response.json({ traceparent: ctx.traceparent, traceId: ctx.traceId, kept: ctx.traceId === before });
    } } }`);
    expect(JSON.parse((await sb.invoke({ traceparent: TRACEPARENT })).text!)).toEqual({
      traceparent: TRACEPARENT,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      kept: true,
    });
    expect(JSON.parse((await sb.invoke()).text!)).toEqual({ traceparent: '', traceId: '', kept: true });

    const lambda = new Sandbox();
    lambda.setModule(`{ handler: async (event, context) => ({ statusCode: 200, body: JSON.stringify([context.traceparent, context.traceId]) }) }`);
    expect(JSON.parse((await lambda.invoke({ traceparent: TRACEPARENT })).text!)).toEqual([TRACEPARENT, '4bf92f3577b34da6a3ce929d0e0e4736']);
  });

  it('passes request, env and ctx, and returns status, headers, body bytes and logs', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { async fetch(request, env, ctx) {
      console.log('got', request.method, new URL(request.url).pathname);
      const body = new Uint8Array(await request.arrayBuffer());
      const headers = new Headers({ 'X-Echo-Len': String(body.length), 'X-Env': env.GREETING + ',' + env.N });
      headers.append('Set-Cookie', 'a=1');
      headers.append('Set-Cookie', 'b=2');
      headers.append('X-Id', ctx.invocationId);
      headers.append('X-Agent', request.headers.get('user-agent'));
      const out = new Uint8Array(body.length + 1);
      out.set(body);
      out[body.length] = 255;
      return new Response(out, { status: 201, headers });
    } } }`);
    const body = Uint8Array.from([0, 1, 2, 0xc3, 0x28, 0xff]);
    const out = await sb.invoke({
      method: 'PUT',
      url: 'https://fn.test/hello/world?x=1',
      headers: [
        ['User-Agent', 'test/1'],
        ['X-Bad', 'a\u0000b'],
      ],
      body,
      invocationId: 'inv-42',
    });
    expect(out.status).toBe(201);
    expect(out.headers).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['x-agent', 'test/1'],
      ['x-echo-len', '6'],
      ['x-env', 'hi,1'],
      ['x-id', 'inv-42'],
    ]);
    expect([...out.bytes!]).toEqual([0, 1, 2, 0xc3, 0x28, 0xff, 255]);
    expect(out.logs).toEqual([{ level: 'log', message: 'got PUT /hello/world', ms: 0 }]);
    expect(out.error).toBeUndefined();
  });

  it("normalizes the host's header pairs like append() and drops the invalid ones", async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { fetch(request) {
      return Response.json({ all: [...request.headers], type: request.headers.get('Content-Type') });
    } } }`);
    const cases: { headers: unknown[]; all: [string, string][] }[] = [
      { headers: [], all: [] },
      {
        headers: [
          ['Content-Type', 'text/plain'],
          ['x-a', '1'],
          ['X-A', '2'],
        ],
        all: [
          ['content-type', 'text/plain'],
          ['x-a', '1, 2'],
        ],
      },
      // Everything below takes the one-by-one way for the whole list; the result must be the same.
      {
        headers: [
          ['content-type', ' padded\t'],
          ['x-b', ''],
        ],
        all: [
          ['content-type', 'padded'],
          ['x-b', ''],
        ],
      },
      {
        headers: [
          ['content-type', 'café'],
          ['x-c', '\u20ac'],
        ],
        all: [['content-type', 'café']],
      },
      {
        headers: [
          ['content-type', 'a\rb'],
          ['x-d', 'ok'],
          ['x-e', 'a\u0000b'],
          ['x-f', 'a\nb'],
        ],
        all: [['x-d', 'ok']],
      },
      {
        headers: [
          ['bad name', 'x'],
          ['x-g\nx-h', 'y'],
          ['', 'z'],
          ['content-type', 'ok'],
        ],
        all: [['content-type', 'ok']],
      },
      {
        headers: [['content-type', 'ok'], ['x-i'], 'x-j: 1', ['x-k', 'v', 'extra'], null, [1, 2]],
        all: [
          ['1', '2'],
          ['content-type', 'ok'],
        ],
      },
      {
        headers: [
          ['content-type', 'tab\tinside'],
          ['x-l', '\u0001ctl'],
        ],
        all: [
          ['content-type', 'tab\tinside'],
          ['x-l', '\u0001ctl'],
        ],
      },
    ];
    for (const c of cases) {
      const out = await sb.invoke({ headers: c.headers as [string, string][] });
      const body = JSON.parse(out.text!);
      expect(body.all, JSON.stringify(c.headers)).toEqual(c.all);
      expect(body.type ?? undefined).toBe(c.all.find((p) => p[0] === 'content-type')?.[1]);
    }
  });

  it('serializes the request URL and method, and answers 500 when the host sends ones fetch cannot take', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { fetch(request) {
      return Response.json([request.method, request.url, String(request), request.headers instanceof Headers, request.bodyUsed]);
    } } }`);
    const ok = await sb.invoke({ method: 'post', url: 'HTTPS://Fn.Test:443/a/./b/../c d?x=1 2#frag' });
    expect(JSON.parse(ok.text!)).toEqual(['POST', 'https://fn.test/a/c%20d?x=1%202#frag', '[object Request]', true, false]);
    const custom = await sb.invoke({ method: 'PATCH', url: 'http://fn.test/' });
    expect(JSON.parse(custom.text!)[0]).toBe('PATCH');
    const badUrl = await sb.invoke({ url: 'https://' });
    expect([badUrl.status, badUrl.error?.name, badUrl.error?.message]).toEqual([500, 'TypeError', expect.stringMatching(/^Request: invalid URL "https:\/\/"/)]);
    const badMethod = await sb.invoke({ method: 'CONNECT' });
    expect([badMethod.status, badMethod.error?.message]).toEqual([500, 'Request: the method CONNECT is not allowed']);
  });

  it('gives the handler a frozen env of strings', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { async fetch(request, env) {
      const assigned = Reflect.set(env, 'GREETING', 'changed') || Reflect.set(env, 'NEW', 'x');
      return Response.json({ frozen: Object.isFrozen(env), assigned, env });
    } } }`);
    const out = await sb.invoke();
    expect(JSON.parse(out.text!)).toEqual({ frozen: true, assigned: false, env: { GREETING: 'hi', N: '1' } });
  });

  it('waits for ctx.waitUntil promises before completing, and logs their failures', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { async fetch(request, env, ctx) {
      ctx.passThroughOnException();
      ctx.waitUntil(new Promise((r) => setTimeout(() => { console.log('background done'); ctx.waitUntil(Promise.resolve().then(() => console.log('nested'))); r(); }, 50)));
      ctx.waitUntil(Promise.reject(new Error('background failed')));
      return new Response('answered');
    } } }`);
    const out = await sb.invoke();
    expect(out.text).toBe('answered');
    expect(out.status).toBe(200);
    expect(out.logs.map((l) => [l.level, l.message.split('\n')[0]])).toEqual([
      ['error', 'Uncaught (in waitUntil) Error: background failed'],
      ['log', 'background done'],
      ['log', 'nested'],
    ]);
    expect(out.logs[1]!.ms).toBe(50);
  });

  it('turns a thrown error into a 500 with the message, keeping the logs', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { async fetch(request) {
      console.log('before');
      if (request.method === 'POST') throw new RangeError('no such widget');
      return Promise.reject('plain string');
    } } }`);
    const out = await sb.invoke({ method: 'POST' });
    expect(out.status).toBe(500);
    expect(out.headers).toEqual([['content-type', 'application/json']]);
    expect(JSON.parse(out.text!)).toEqual({ error: { name: 'RangeError', message: 'no such widget' } });
    expect(out.error).toMatchObject({ name: 'RangeError', message: 'no such widget' });
    expect(out.error!.stack).toMatch(/^RangeError: no such widget\n\s+at /);
    expect(out.logs.map((l) => l.message)).toEqual(['before']);

    const rejected = await sb.invoke({ method: 'GET' });
    expect(rejected.status).toBe(500);
    expect(JSON.parse(rejected.text!)).toEqual({ error: { name: 'Error', message: 'plain string' } });
  });

  it('rejects a result that is not a Response, and a body the handler already read', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { fetch(request) {
      if (request.url.endsWith('/used')) { const r = new Response('x'); r.text(); return r; }
      if (request.url.endsWith('/error')) return Response.error();
      return { status: 200, body: 'not a Response' };
    } } }`);
    const out = await sb.invoke();
    expect(out.status).toBe(500);
    expect(out.error!.message).toMatch(/^fetch\(\) must return a Response .*returned an object/);
    const used = await sb.invoke({ url: 'https://fn.test/used' });
    expect(used.error!.message).toMatch(/already read/);
    const error = await sb.invoke({ url: 'https://fn.test/error' });
    expect(error.error!.message).toMatch(/Response\.error\(\)/);
  });

  it('starts every invocation with fresh logs and an empty body as null', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { async fetch(request) {
      console.log(request.method + ' ' + (await request.text()).length);
      return new Response(null, { status: 204 });
    } } }`);
    const a = await sb.invoke({ method: 'POST', body: 'abc' });
    const b = await sb.invoke({ method: 'GET' });
    expect(a.logs.map((l) => l.message)).toEqual(['POST 3']);
    expect(b.logs.map((l) => l.message)).toEqual(['GET 0']);
    expect(b.status).toBe(204);
    expect(b.bytes).toBeNull();
  });

  it('failure() reports a 500 with the logs so far and ends the invocation', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { async fetch() {
      console.log('working');
      setTimeout(() => {}, 10);
      await new Promise(() => {}); // never settles
    } } }`);
    const pending = sb.hooks.invoke(JSON.stringify({ method: 'GET', url: 'https://fn.test/', headers: [], invocationId: 'x', deadlineMs: 0 }), null);
    void pending;
    await new Promise((r) => setImmediate(r));
    const meta = JSON.parse(sb.hooks.failure('TimeoutError', 'the invocation did not finish within 30 s', ''));
    expect(meta).toEqual({
      status: 500,
      headers: [['content-type', 'application/json']],
      logs: [{ level: 'log', message: 'working', ms: 0 }],
      error: { name: 'TimeoutError', message: 'the invocation did not finish within 30 s', stack: '' },
    });
    expect(sb.hooks.nextTimer()).toBe(-1);
  });

  it('throws synchronously on metadata that is not JSON', () => {
    const sb = new Sandbox();
    sb.setModule('{ default: { fetch() { return new Response(""); } } }');
    expect(() => sb.hooks.invoke('{not json', null)).toThrow(/not valid JSON/);
  });
});

describe('setModule', () => {
  it('explains what to export when the module has no handler', () => {
    const sb = new Sandbox();
    for (const exportsSource of ['{}', '{ default: {} }', '{ default: () => 1 }', '{ handler: "not a function" }']) {
      expect(() => sb.setModule(exportsSource), exportsSource).toThrow(
        /^the module exports neither a default object with fetch\(\) nor a handler\(\) function: export `default \{ async fetch/,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('invoke: Lambda handlers', () => {
  it('builds an API Gateway v2 event and context', async () => {
    const sb = new Sandbox();
    sb.setModule(
      `{ async handler(event, context) {
      return { statusCode: 200, body: JSON.stringify({ event, context: { ...context, remaining: context.getRemainingTimeInMillis() } }) };
    } }`,
      { name: 'legacy', env: {}, memoryMiB: 512 },
    );
    const out = await sb.invoke({
      method: 'POST',
      url: 'https://api.fn.test/items/42?b=2&a=1&b=3&e=%C3%A9',
      headers: [
        ['Host', 'api.fn.test'],
        ['User-Agent', 'curl/8'],
        ['X-Forwarded-For', '203.0.113.9, 10.0.0.1'],
        ['Accept', 'a'],
        ['accept', 'b'],
        ['Cookie', 'k1=v1; k2=v2'],
      ],
      body: '{"x":1}',
      invocationId: 'req-7',
      deadlineMs: sb.now + 1500.6,
    });
    const { event, context } = JSON.parse(out.text!);
    expect(event).toEqual({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/items/42',
      rawQueryString: 'b=2&a=1&b=3&e=%C3%A9',
      cookies: ['k1=v1', 'k2=v2'],
      headers: { host: 'api.fn.test', 'user-agent': 'curl/8', 'x-forwarded-for': '203.0.113.9, 10.0.0.1', accept: 'a,b' },
      queryStringParameters: { b: '2,3', a: '1', e: 'é' },
      requestContext: {
        accountId: 'fn',
        apiId: 'fn',
        domainName: 'api.fn.test',
        domainPrefix: 'api',
        http: { method: 'POST', path: '/items/42', protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl/8' },
        requestId: 'req-7',
        routeKey: '$default',
        stage: '$default',
        time: '14/Nov/2023:22:13:20 +0000',
        timeEpoch: 1700000000000,
      },
      body: '{"x":1}',
      isBase64Encoded: false,
    });
    expect(context).toMatchObject({
      functionName: 'legacy',
      functionVersion: '$LATEST',
      memoryLimitInMB: '512',
      awsRequestId: 'req-7',
      callbackWaitsForEmptyEventLoop: true,
      remaining: 1500,
    });
    expect(context.invokedFunctionArn).toMatch(/:function:legacy$/);
  });

  it('sends binary bodies base64-encoded and omits what is absent', async () => {
    const sb = new Sandbox();
    sb.setModule('{ handler: async (event) => ({ statusCode: 200, body: JSON.stringify(event) }) }');
    const binary = JSON.parse((await sb.invoke({ method: 'POST', body: Uint8Array.from([0xff, 0x00, 0x80]) })).text!);
    expect([binary.body, binary.isBase64Encoded]).toEqual(['/wCA', true]);
    const empty = JSON.parse((await sb.invoke({ url: 'https://fn.test/' })).text!);
    expect('body' in empty || 'cookies' in empty || 'queryStringParameters' in empty).toBe(false);
    expect([empty.isBase64Encoded, empty.rawQueryString, empty.rawPath]).toEqual([false, '', '/']);
  });

  it('maps results the API Gateway way', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ handler: async (event) => {
      switch (event.rawPath) {
        case '/full': return { statusCode: 201, headers: { 'Content-Type': 'text/csv', 'X-N': 5 }, cookies: ['a=1', 'b=2'], body: 'a,b' };
        case '/b64': return { statusCode: 200, isBase64Encoded: true, body: '/wCA', headers: { 'content-type': 'application/octet-stream' } };
        case '/string': return 'just text';
        case '/object': return { hello: 'world' };
        case '/undefined': return undefined;
        case '/response': return new Response('fetch style', { status: 202 });
        case '/bad-status': return { statusCode: 42 };
        default: throw new TypeError('lambda broke');
      }
    } }`);
    const full = await sb.invoke({ url: 'https://fn.test/full' });
    expect([full.status, full.headers, full.text]).toEqual([
      201,
      [
        ['content-type', 'text/csv'],
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
        ['x-n', '5'],
      ],
      'a,b',
    ]);
    const b64 = await sb.invoke({ url: 'https://fn.test/b64' });
    expect([...b64.bytes!]).toEqual([0xff, 0x00, 0x80]);
    const str = await sb.invoke({ url: 'https://fn.test/string' });
    expect([str.status, str.headers, str.text]).toEqual([200, [['content-type', 'text/plain;charset=UTF-8']], 'just text']);
    const obj = await sb.invoke({ url: 'https://fn.test/object' });
    expect([obj.status, obj.headers, obj.text]).toEqual([200, [['content-type', 'application/json']], '{"hello":"world"}']);
    const none = await sb.invoke({ url: 'https://fn.test/undefined' });
    expect([none.status, none.headers, none.bytes]).toEqual([200, [], null]);
    const response = await sb.invoke({ url: 'https://fn.test/response' });
    expect([response.status, response.text]).toEqual([202, 'fetch style']);
    const bad = await sb.invoke({ url: 'https://fn.test/bad-status' });
    expect([bad.status, bad.error!.message]).toEqual([500, expect.stringMatching(/statusCode 42/)]);
    const thrown = await sb.invoke({ url: 'https://fn.test/throw' });
    expect([thrown.status, JSON.parse(thrown.text!)]).toEqual([500, { error: { name: 'TypeError', message: 'lambda broke' } }]);
  });

  it('supports callback-style handlers and CommonJS bundles', async () => {
    const sb = new Sandbox();
    sb.setModule(`{ default: { handler(event, context, callback) {
      setTimeout(() => callback(null, { statusCode: 200, body: 'called back ' + context.functionName }), 10);
    } } }`);
    expect((await sb.invoke()).text).toBe('called back hello');

    const failing = new Sandbox();
    failing.setModule(`{ handler(event, context, callback) { callback(new Error('callback error')); } }`);
    const out = await failing.invoke();
    expect([out.status, out.error!.message]).toEqual([500, 'callback error']);
  });
});
