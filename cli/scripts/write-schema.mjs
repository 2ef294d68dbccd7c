// Writes cli/schema/fn.schema.json from the zod schema of fn.json (build the CLI first: tsc -b cli).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fnJsonSchemaText, SCHEMA_FILE } from '../dist/fn-json-schema.js';

const file = fileURLToPath(new URL(`../${SCHEMA_FILE}`, import.meta.url));
writeFileSync(file, fnJsonSchemaText());
console.log(`wrote ${file}`);
