// A TypeScript function that imports an npm package: zod validates a signup payload.
// POST {"email": "...", "age": 30} → 200 {"ok": true, ...}; anything else → 400 with the issues.
import { z } from 'zod';

const Signup = z.object({
  email: z.string().email(),
  age: z.number().int().min(13),
  name: z.string().min(1).max(100).optional(),
});

type Signup = z.infer<typeof Signup>;

function greeting(s: Signup): string {
  return `welcome${s.name ? `, ${s.name}` : ''}`;
}

export default {
  async fetch(request: Request): Promise<Response> {
    let input: unknown;
    try {
      input = await request.json();
    } catch {
      return Response.json({ ok: false, error: 'send a JSON body' }, { status: 400 });
    }
    const parsed = Signup.safeParse(input);
    if (!parsed.success) {
      return Response.json({ ok: false, issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) }, { status: 400 });
    }
    return Response.json({ ok: true, message: greeting(parsed.data), user: parsed.data });
  },
};
