// A handler that throws.
export default {
  fetch() {
    throw new RangeError('the widget count must be positive');
  },
};
