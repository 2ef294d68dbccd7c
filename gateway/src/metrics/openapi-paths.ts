/** /healthz, /readyz and /metrics in /openapi.json (they sit outside the route book: no zod bodies). */
const errorRef = { $ref: '#/components/schemas/Error' };
const errorBody = (description: string) => ({ description, content: { 'application/json': { schema: errorRef } } });
const probeBody = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not ready'] },
    notReady: { type: 'array', items: { type: 'string' } },
    checks: { type: 'object', additionalProperties: { type: 'string' }, description: '"ok", or why that part is not ready' },
  },
};

export function operationsPaths(): Record<string, unknown> {
  return {
    '/healthz': {
      get: {
        operationId: 'healthz',
        summary: 'Liveness: the gateway serves HTTP (no key)',
        tags: ['operations'],
        security: [],
        responses: { 200: { description: 'Alive', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary: 'Readiness: the registry, the snapshot store and a worker with a base snapshot are up (no key)',
        tags: ['operations'],
        security: [],
        responses: {
          200: { description: 'Ready', content: { 'application/json': { schema: probeBody } } },
          503: { description: 'Not ready: notReady names the parts', content: { 'application/json': { schema: probeBody } } },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus series (fn_*): the admin key or the metrics token (FN_METRICS_TOKEN) as a bearer token',
        tags: ['operations'],
        responses: {
          200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
          401: errorBody('No key or token, or one that is not valid'),
          403: errorBody('A tenant key: metrics span every tenant'),
        },
      },
    },
  };
}
