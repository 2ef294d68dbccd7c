// The smallest fn function: a Web-standard fetch handler.
export default {
  fetch() {
    return new Response('Hello from fn!\n');
  },
};
