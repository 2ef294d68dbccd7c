/**
 * Waits until `check` passes. Generous on purpose: these wait for processes and VMs on a loaded
 * 2-core machine (and 10-50x slower in the nested KVM machine: FN_TIMEOUT_SCALE), and assert
 * what happens, never how fast.
 */
import { scaledTimeout } from '@fn/vmm';
import { vi } from 'vitest';

export const eventually = <T>(check: () => T | Promise<T>): Promise<T> => vi.waitFor(check, { timeout: scaledTimeout(30_000), interval: 20 });
