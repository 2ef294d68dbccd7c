// Preloaded (node --import) into a VMM host started from TypeScript sources: lets Node load .ts
// modules through ts-hooks.mjs. Development only; a built worker runs plain JavaScript.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
