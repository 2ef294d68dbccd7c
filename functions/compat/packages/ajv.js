import Ajv from 'ajv';
const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile({
  type: 'object',
  properties: { name: { type: 'string', minLength: 1 }, age: { type: 'integer', minimum: 0 } },
  required: ['name'],
  additionalProperties: false,
});
export default {
  fetch() {
    const good = validate({ name: 'Ada', age: 36 });
    const bad = validate({ age: -1, extra: true });
    return new Response(JSON.stringify({ good, bad, errors: validate.errors.map((e) => e.keyword).sort() }));
  },
};
