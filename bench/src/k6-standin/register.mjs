// node --import ./register.mjs: installs the k6 module stand-ins for what runs after it.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
