// The worker behind the stand-in's synchronous HTTP: it does each request with fetch, posts the
// answer on its port, then wakes the script's thread, which waits in Atomics.wait.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', async ({ port, signal, method, url, body, headers }) => {
  const started = performance.now();
  let answer;
  try {
    const res = await fetch(url, { method, headers, ...(body !== undefined && body !== null ? { body } : {}) });
    const text = await res.text();
    answer = { status: res.status, body: text, headers: [...res.headers.entries()], duration: performance.now() - started, error: '' };
  } catch (error) {
    answer = { status: 0, body: null, headers: [], duration: performance.now() - started, error: String(error?.cause?.message ?? error?.message ?? error) };
  }
  port.postMessage(answer);
  port.close();
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
