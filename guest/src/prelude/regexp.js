// regexp.js — works around QuickJS 2021 rejecting `\-` inside a character class of a unicode-mode
// pattern (`/[a\-z]/u`: "invalid escape sequence"), which the spec allows (ClassEscape :: [+U] -)
// and which popular packages use (ajv's URI parser, fast-xml-parser's name patterns).
//
// RegExp becomes a Proxy of the engine's constructor: a string pattern with the `u` flag has each
// `\-` inside a class rewritten to `\x2d` (the same character, an escape QuickJS accepts) before
// the engine sees it. Everything else passes through: RegExp.prototype, statics, subclassing and
// instanceof are the engine's. Literals never reach a constructor, so the function bundler turns
// unicode-mode literals into `new RegExp(...)` calls (cli/src/bundle.ts, esbuild's `supported`).

const EngineRegExp = RegExp;

function fixUnicodeClassDash(source) {
  if (source.indexOf('\\-') < 0) return source;
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\' && i + 1 < source.length) {
      const next = source[i + 1];
      out += inClass && next === '-' ? '\\x2d' : c + next;
      i++;
    } else {
      if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      out += c;
    }
  }
  return out;
}

function fixArgs(args) {
  const pattern = args[0];
  const flags = args[1];
  if (typeof pattern === 'string' && typeof flags === 'string' && flags.indexOf('u') >= 0) {
    return [fixUnicodeClassDash(pattern), flags];
  }
  return args;
}

const PatchedRegExp = new Proxy(EngineRegExp, {
  construct(target, args, newTarget) {
    return Reflect.construct(target, fixArgs(args), newTarget === PatchedRegExp ? target : newTarget);
  },
  apply(target, thisArg, args) {
    return Reflect.apply(target, thisArg, fixArgs(args));
  },
});

Object.defineProperty(globalThis, 'RegExp', { value: PatchedRegExp, writable: true, enumerable: false, configurable: true });
