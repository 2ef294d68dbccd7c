import { Hono } from 'hono';
const app = new Hono();
app.get('/', (c) => c.text('hono root'));
app.get('/users/:id', (c) => c.json({ id: c.req.param('id'), q: c.req.query('q') }));
app.post('/echo', async (c) => c.json({ got: await c.req.json() }, 201));
app.notFound((c) => c.text('nope', 404));
export default app;
