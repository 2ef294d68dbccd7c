/**
 * Messages between the gateway and its log writer thread (threaded-log-sink.ts ⇄
 * log-writer-thread.ts). Batches are numbered; the thread says up to which batch everything is
 * stored, so the gateway knows what a failed thread had not stored yet.
 */
import type { AppendLogInput } from '@fn/registry';
import type { Logger } from './deps.js';

export type ToLogWriter = { batch: number; records: AppendLogInput[] } | { close: true };

export type FromLogWriter = { storedUpTo: number } | { closed: true } | { log: Parameters<Logger>[0] };
