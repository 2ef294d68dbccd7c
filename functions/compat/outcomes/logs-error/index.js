// Logs a caught error with console.error: the log shows the user's files, not the bundle's lines.
import { parseCount } from './helper.js';

export default {
  fetch() {
    try {
      parseCount('zero');
    } catch (err) {
      console.error(err);
    }
    return new Response('handled');
  },
};
