// fn_abi.h is the source of truth; this test compiles a probe against it and checks that abi.ts
// (the TypeScript mirror) agrees on every constant and field offset.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as abi from './abi.js';

const includeDir = fileURLToPath(new URL('../../guest/include', import.meta.url));

function probeHeader(): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'fn-abi-'));
  const fields = Object.keys(abi.HeaderOffset).map((k) => [k, k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())] as const);
  const src = `#include <stdio.h>
#include <stddef.h>
#include "fn_abi.h"
int main(void) {
  printf("{");
  printf("\\"ABI_VERSION\\":%u,", FN_ABI_VERSION);
  printf("\\"WINDOW_MAGIC\\":%u,", FN_WINDOW_MAGIC);
  printf("\\"WINDOW_SIZE\\":%llu,", (unsigned long long)FN_WINDOW_SIZE);
  printf("\\"WINDOW_DATA_OFFSET\\":%u,", FN_WINDOW_DATA_OFFSET);
  printf("\\"WINDOW_HEADER_SIZE\\":%u,", FN_WINDOW_HEADER_SIZE);
  printf("\\"sizeof\\":%zu,", sizeof(struct fn_window_header));
  printf("\\"entropyBytes\\":%zu,", sizeof(((struct fn_window_header *)0)->entropy));
  printf("\\"Ready\\":%d,\\"Done\\":%d,\\"Panic\\":%d,\\"Sleep\\":%d,", FN_EVENT_READY, FN_EVENT_DONE, FN_EVENT_PANIC, FN_EVENT_SLEEP);
  printf("\\"Load\\":%d,\\"Invoke\\":%d,", FN_CMD_LOAD, FN_CMD_INVOKE);
  printf("\\"Ok\\":%d,\\"LoadError\\":%d,\\"OutOfMemory\\":%d,\\"BadInput\\":%d,\\"NotLoaded\\":%d,", FN_STATUS_OK, FN_STATUS_LOAD_ERROR, FN_STATUS_OUT_OF_MEMORY, FN_STATUS_BAD_INPUT, FN_STATUS_NOT_LOADED);
${fields.map(([ts, c]) => `  printf("\\"off_${ts}\\":%zu,", offsetof(struct fn_window_header, ${c}));`).join('\n')}
  printf("\\"end\\":0}");
  return 0;
}
`;
  writeFileSync(join(dir, 'probe.c'), src);
  execFileSync('cc', ['-I', includeDir, '-o', join(dir, 'probe'), join(dir, 'probe.c')]);
  return JSON.parse(execFileSync(join(dir, 'probe'), { encoding: 'utf8' })) as Record<string, number>;
}

describe('abi.ts mirrors guest/include/fn_abi.h', () => {
  const c = probeHeader();

  it('has the same constants', () => {
    expect(abi.ABI_VERSION).toBe(c.ABI_VERSION);
    expect(abi.WINDOW_MAGIC).toBe(c.WINDOW_MAGIC);
    expect(abi.WINDOW_SIZE).toBe(c.WINDOW_SIZE);
    expect(abi.WINDOW_DATA_OFFSET).toBe(c.WINDOW_DATA_OFFSET);
    expect(abi.WINDOW_HEADER_SIZE).toBe(c.WINDOW_HEADER_SIZE);
    expect(c.sizeof).toBe(abi.WINDOW_HEADER_SIZE);
    expect(abi.ENTROPY_BYTES).toBe(c.entropyBytes);
  });

  it('has the same events, commands and statuses', () => {
    for (const k of ['Ready', 'Done', 'Panic', 'Sleep'] as const) expect(abi.GuestEvent[k]).toBe(c[k]);
    for (const k of ['Load', 'Invoke'] as const) expect(abi.GuestCommand[k]).toBe(c[k]);
    for (const k of ['Ok', 'LoadError', 'OutOfMemory', 'BadInput', 'NotLoaded'] as const) expect(abi.GuestStatus[k]).toBe(c[k]);
  });

  it('has the same header field offsets', () => {
    for (const [field, offset] of Object.entries(abi.HeaderOffset)) {
      expect({ field, offset }).toEqual({ field, offset: c[`off_${field}`] });
    }
  });
});
