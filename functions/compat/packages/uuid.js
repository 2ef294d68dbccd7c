import { v4, v5, v7, validate, version } from 'uuid';
export default {
  fetch() {
    const a = v4();
    return new Response(
      JSON.stringify({
        v4: a,
        v4valid: validate(a),
        v4version: version(a),
        v5: v5('hello', v5.DNS),
        v7version: version(v7()),
        distinct: v4() !== v4(),
      }),
    );
  },
};
