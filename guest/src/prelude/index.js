// index.js — the prelude's entry: every part, in the order they run. Each part imports what it
// uses from the parts above it (never from a part below: the import graph has no cycles, so this
// order is the order esbuild's bundle evaluates them in). The parts run for their effects: they
// define the Web globals, and dispatch.js the hooks the C runtime calls.
import './es2023.js';
import './regexp.js';
import './internal.js';
import './encoding.js';
import './headers.js';
import './url-host.js';
import './url-parser.js';
import './url.js';
import './crypto.js';
import './blob.js';
import './streams.js';
import './body.js';
import './console.js';
import './subtle.js';
import './structured-clone.js';
import './intl.js';
import './timers.js';
import './events.js';
import './lambda.js';
import './dispatch.js';
import './runtime-info.js';
