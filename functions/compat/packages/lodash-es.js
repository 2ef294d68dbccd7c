import { chunk, debounce, groupBy, merge, sortBy } from 'lodash-es';
export default {
  fetch() {
    const out = {
      chunk: chunk([1, 2, 3, 4, 5], 2),
      groupBy: groupBy(['one', 'two', 'three'], 'length'),
      merge: merge({ a: { b: 1 } }, { a: { c: 2 } }),
      sortBy: sortBy(
        [
          { n: 'b', a: 2 },
          { n: 'a', a: 1 },
        ],
        'a',
      ).map((x) => x.n),
      debounce: typeof debounce(() => {}, 10),
    };
    return new Response(JSON.stringify(out));
  },
};
