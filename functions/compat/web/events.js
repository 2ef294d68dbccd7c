// Event, EventTarget, AbortController/AbortSignal, WeakRef, FinalizationRegistry in the guest.
export default {
  async fetch() {
    const log = [];
    const target = new EventTarget();
    const onPing = (e) => log.push(`ping ${e.type} ${e.target === target} ${e.cancelable}`);
    target.addEventListener('ping', onPing);
    target.addEventListener('ping', onPing); // a duplicate is ignored
    target.addEventListener('ping', { handleEvent: () => log.push('handleEvent') }, { once: true });
    target.addEventListener('ping', (e) => e.preventDefault());
    const notCancelled = target.dispatchEvent(new Event('ping', { cancelable: true }));
    target.dispatchEvent(new Event('ping'));
    target.removeEventListener('ping', onPing);
    target.dispatchEvent(new Event('ping'));

    const controller = new AbortController();
    const seen = [];
    controller.signal.addEventListener('abort', () => seen.push('listener'));
    controller.signal.onabort = () => seen.push('onabort');
    const before = controller.signal.aborted;
    controller.abort();
    controller.abort('again'); // only the first abort counts
    let thrown = '';
    try {
      controller.signal.throwIfAborted();
    } catch (e) {
      thrown = `${e.name}: ${e.message}`;
    }
    const custom = AbortSignal.abort(new Error('custom reason'));
    const timeout = AbortSignal.timeout(5);
    const any = AbortSignal.any([new AbortController().signal, timeout]);
    await new Promise((resolve) => any.addEventListener('abort', resolve));
    let illegal = '';
    try {
      new AbortSignal();
    } catch (e) {
      illegal = e.name;
    }

    const obj = { big: true };
    const ref = new WeakRef(obj);
    const registry = new FinalizationRegistry(() => log.push('finalized'));
    const token = {};
    registry.register(obj, 'held', token);
    let badTarget = '';
    try {
      new WeakRef(1);
    } catch (e) {
      badTarget = e.name;
    }

    return new Response(
      JSON.stringify({
        log,
        notCancelled,
        before,
        seen,
        aborted: controller.signal.aborted,
        reason: controller.signal.reason.name,
        thrown,
        custom: custom.aborted && custom.reason.message,
        timeoutReason: timeout.reason.name,
        anyReason: any.reason.name,
        illegal,
        deref: ref.deref() === obj,
        unregistered: [registry.unregister(token), registry.unregister(token)],
        badTarget,
        tags: [Object.prototype.toString.call(new Event('x')), String(ref), String(controller.signal)],
      }),
    );
  },
};
