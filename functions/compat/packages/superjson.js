import superjson from 'superjson';
export default {
  fetch() {
    const value = { when: new Date(Date.UTC(2024, 0, 2)), set: new Set([1, 2]), map: new Map([['k', 1n]]), re: /a+/g, u: undefined };
    const text = superjson.stringify(value);
    const back = superjson.parse(text);
    return new Response(
      JSON.stringify({
        when: back.when instanceof Date && back.when.toISOString(),
        set: back.set instanceof Set && [...back.set],
        map: back.map instanceof Map && String(back.map.get('k')),
        re: back.re instanceof RegExp && back.re.toString(),
        hasU: 'u' in back,
      }),
    );
  },
};
