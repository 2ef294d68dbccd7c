// A function written for Node that reads a file: fn refuses it at bundle time.
import { readFileSync } from 'node:fs';
export default { fetch: () => new Response(readFileSync('/etc/hostname')) };
