/**
 * The baseline: the same handlers (hello, and a JSON echo) served by hono on @hono/node-server,
 * with no isolation at all, in a process of its own (as fn's gateway is), so the comparison is
 * process for process. Prints its port on stdout when listening; runs until killed.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/hello', () => new Response('Hello from fn!\n'));
app.post('/echo', async (c) => Response.json({ echo: await c.req.json() }));
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.stdout.write(`${info.port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
