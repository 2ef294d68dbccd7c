/**
 * One writer process for the multi-process test: puts shared and own content, the shared base
 * snapshot and its own function snapshot, refs it, and prints what it stored as JSON.
 * Usage: node put-child.mjs <store dir> <writer id>
 */
import { SnapshotStore } from '../store.js';
import { guestImage, putBase, putFunction } from './fixtures.js';

const [dir, id] = process.argv.slice(2) as [string, string];
const store = new SnapshotStore(dir);
const shared = await Promise.all([1, 2, 3].map((n) => store.putBlob(guestImage('shared', [n, n + 9]))));
const own = await store.putBlob(guestImage(`own-${id}`, [5]));
const base = await putBase(store); // identical bytes in every writer
const fn = await putFunction(store, base, `fn-${id}`);
await store.setRef('base', base.digest);
await store.setRef(`fn-${id}`, fn.digest);
process.stdout.write(JSON.stringify({ shared, own, base: base.digest, fn: fn.digest }));
