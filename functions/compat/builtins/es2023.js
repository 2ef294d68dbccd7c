// Runs the ES2023 cases inside the guest and answers with their encoded outcomes.
import { runCases } from './es2023-cases.js';

export default {
  fetch() {
    return new Response(JSON.stringify(runCases()), { headers: { 'content-type': 'application/json' } });
  },
};
