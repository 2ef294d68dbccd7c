// The guest binary statically links QuickJS: its MIT notice must ship with fn, word for word as upstream wrote it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Where guest/scripts/lib/vendor.mjs finds the sources: an installed qjsc@0.3.0, else its own unpacked copy.
const candidates = [
  join(repoRoot, 'guest', 'node_modules', 'qjsc', 'deps', 'quickjs_2021_03_27', 'LICENSE'),
  join(repoRoot, 'node_modules', 'qjsc', 'deps', 'quickjs_2021_03_27', 'LICENSE'),
  join(repoRoot, 'guest', 'build', 'vendor', 'quickjs-2021-03-27', 'LICENSE'),
];
const vendoredLicense = candidates.find((file) => existsSync(file)) ?? candidates.at(-1)!;

describe('third-party notices', () => {
  it('THIRD_PARTY_NOTICES carries the QuickJS LICENSE the guest build vendors, verbatim', () => {
    expect(existsSync(vendoredLicense), `run npm run build first: ${vendoredLicense} is missing`).toBe(true);
    const upstream = readFileSync(vendoredLicense, 'utf8').trim();
    const notices = readFileSync(join(repoRoot, 'THIRD_PARTY_NOTICES'), 'utf8');
    expect(upstream).toContain('Fabrice Bellard');
    expect(notices).toContain(upstream);
  });

  it('LICENSE is MIT, like package.json says, and points at the notices', () => {
    const license = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.license).toBe('MIT');
    expect(license).toMatch(/^MIT License/);
    expect(license).toContain('fn authors');
    expect(license).toContain('THIRD_PARTY_NOTICES');
  });
});
