/**
 * Waits until `check` passes. Generous on purpose: these wait for processes and VMs on a loaded
 * 2-core machine, and assert what happens, never how fast.
 */
import { vi } from 'vitest';

export const eventually = <T>(check: () => T | Promise<T>): Promise<T> => vi.waitFor(check, { timeout: 30_000, interval: 20 });
