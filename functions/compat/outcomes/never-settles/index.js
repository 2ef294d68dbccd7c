// A handler whose promise nothing can settle: no timer, no pending work.
export default {
  fetch() {
    return new Promise(() => {});
  },
};
