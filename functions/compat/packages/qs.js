import qs from 'qs';
export default {
  fetch(request) {
    const query = new URL(request.url).search.slice(1);
    return new Response(JSON.stringify({ parsed: qs.parse(query), built: qs.stringify({ a: [1, 2], b: { c: 'd' } }, { encode: false }) }));
  },
};
