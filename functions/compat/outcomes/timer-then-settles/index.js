// Pending work that does settle the promise later: a timer. Not an error.
export default {
  fetch() {
    return new Promise((resolve) => setTimeout(() => resolve(new Response('settled by a timer')), 20));
  },
};
