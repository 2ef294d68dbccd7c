/**
 * The JSON Schema of fn.json, generated from the zod schema the CLI validates with, so editors
 * complete and check fn.json (`fn init` writes "$schema": a path to cli/schema/fn.schema.json).
 * Regenerate after changing FunctionConfigSchema: npm run schema -w @fn/cli (a test fails until then).
 */
import { z } from 'zod';
import { FunctionConfigSchema } from './function-config.js';

export const SCHEMA_FILE = 'schema/fn.schema.json';

export function fnJsonSchemaText(): string {
  // io: 'input' describes what a person writes: fields with defaults are optional.
  const schema = z.toJSONSchema(FunctionConfigSchema, { io: 'input' });
  return JSON.stringify({ ...schema, title: "fn.json: a function folder's configuration" }, null, 2) + '\n';
}
