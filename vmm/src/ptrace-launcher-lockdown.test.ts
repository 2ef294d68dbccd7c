// The ptrace VMM launcher (vmm/native/ptrace/launcher.c) runs under its own seccomp allowlist with
// no_new_privs once it listens (launcher_lockdown in lockdown.c), and every standby VMM it forks
// inherits both: a standby taken over before its RESTORE (or the launcher itself) cannot exec,
// make a socket, create a file or attach to a process. Shown from /proc and with the test-only
// TEST_PROBE command (FN_VMM_TEST_HOOKS=1, which the platform never sets) sent to a standby that
// holds no VM yet; restores through the same launcher still serve.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GuestEvent, WINDOW_DATA_MAX, WINDOW_HEADER_SIZE } from './abi.js';
import { FrameReader } from './frame-reader.js';
import { freshEntropy, nowUnixNs } from './host-inputs.js';
import { PtraceLauncher, type StandbyVmm } from './ptrace-launcher.js';
import { describeEachBackend } from './test-support/backends.js';
import { encodeHostHeader } from './window-header.js';

const TEST_PROBE = 0x1f0; // guest/include/fn_vmm_control.h

function statusOf(pid: number): { seccomp: number; noNewPrivs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { seccomp: field('Seccomp'), noNewPrivs: field('NoNewPrivs') };
}
const parentOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};

/** Sends TEST_PROBE to a standby VMM and reads its answer: {tried, outcome}. */
function probe(vmm: StandbyVmm, what: string, path?: string): Promise<{ tried?: string; outcome?: string; error?: unknown }> {
  const json = Buffer.from(JSON.stringify(path ? { try: what, path } : { try: what }));
  const frame = Buffer.alloc(WINDOW_HEADER_SIZE + json.length);
  json.copy(frame, WINDOW_HEADER_SIZE);
  encodeHostHeader({ command: TEST_PROBE, inputLen: json.length, nowUnixNs: nowUnixNs(), tscKhz: 0n, entropy: freshEntropy() }, frame);
  const reader = new FrameReader(WINDOW_DATA_MAX);
  return new Promise((resolve, reject) => {
    vmm.socket.removeAllListeners('data');
    vmm.socket.on('data', (chunk: Buffer) => {
      const frames = reader.push(chunk);
      if (frames.length === 0) return;
      if (frames[0]!.event !== GuestEvent.Done) reject(new Error(`TEST_PROBE ${what}: event ${frames[0]!.event}`));
      resolve(JSON.parse(frames[0]!.output.toString('utf8')));
    });
    vmm.socket.once('close', () => reject(new Error(`the standby VMM closed its connection on TEST_PROBE ${what}`)));
    vmm.socket.write(frame);
  });
}

describeEachBackend('the ptrace VMM launcher is locked down, and so is every standby VMM it forks', () => {
  let launcher: PtraceLauncher;
  const hooksBefore = process.env.FN_VMM_TEST_HOOKS;
  beforeAll(async () => {
    process.env.FN_VMM_TEST_HOOKS = '1'; // inherited by this launcher alone (the shared one is started without)
    launcher = await PtraceLauncher.start();
  });
  afterAll(() => {
    launcher?.close();
    if (hooksBefore === undefined) delete process.env.FN_VMM_TEST_HOOKS;
    else process.env.FN_VMM_TEST_HOOKS = hooksBefore;
  });

  it('the launcher and a standby show seccomp filter mode and no_new_privs in /proc', async () => {
    const vmm = await launcher.take();
    try {
      const launcherPid = parentOf(vmm.pid);
      expect(launcherPid).not.toBe(process.pid);
      expect(statusOf(launcherPid)).toEqual({ seccomp: 2, noNewPrivs: 1 });
      expect(statusOf(vmm.pid)).toEqual({ seccomp: 2, noNewPrivs: 1 });
    } finally {
      vmm.socket.destroy();
    }
  });

  // ENOSYS: the launcher's filter answers a call outside its allowlist with SECCOMP_RET_TRACE,
  // which fails that way in a process nothing traces (and is a stray syscall in a guest process).
  for (const [what, path] of [['execve'], ['socket'], ['create', join(tmpdir(), `fn-launcher-probe-${process.pid}`)], ['ptrace-parent']] as const) {
    it(`a standby before RESTORE cannot ${what}: ENOSYS`, async () => {
      const vmm = await launcher.take();
      try {
        expect(await probe(vmm, what, path)).toEqual({ tried: what, outcome: 'ENOSYS' });
      } finally {
        vmm.socket.destroy();
      }
    });
  }

  it('what a restore needs stays allowed: a standby opens a file for reading', async () => {
    const vmm = await launcher.take();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'fn-launcher-probe-'));
      expect(await probe(vmm, 'open', dir)).toEqual({ tried: 'open', outcome: 'done' });
    } finally {
      vmm.socket.destroy();
    }
  });
}, ['ptrace']);
