// A module-level counter. Without snapshot reset it counts up across invocations on one VM; with
// per-invocation reset (the snapshots issue) every invocation sees the initial state and prints 1.
let count = 0;

export default {
  fetch() {
    count += 1;
    return new Response(String(count));
  },
};
