// A fresh random UUID per invocation (crypto.randomUUID from host-provided entropy).
export default {
  fetch() {
    return new Response(crypto.randomUUID());
  },
};
