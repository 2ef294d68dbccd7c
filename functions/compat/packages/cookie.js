import { parse, serialize } from 'cookie';
export default {
  fetch(request) {
    return new Response(
      JSON.stringify({
        parsed: parse(request.headers.get('cookie') ?? ''),
        set: serialize('session', 'a b', { httpOnly: true, maxAge: 60, path: '/' }),
      }),
    );
  },
};
