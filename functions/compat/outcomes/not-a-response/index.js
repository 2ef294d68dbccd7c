// A fetch handler that returns a plain object instead of a Response.
export default {
  async fetch() {
    return { hello: 'world' };
  },
};
