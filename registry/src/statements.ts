/**
 * Prepared statements, compiled once per connection and SQL text and reused. better-sqlite3 has no
 * statement cache of its own, and compiling is most of the cost of a small query: an invocation's
 * lookups (key, version, secrets) would otherwise compile the same SQL on every request.
 */
import type Database from 'better-sqlite3';

const byConnection = new WeakMap<Database.Database, Map<string, Database.Statement>>();

export function sql(db: Database.Database, text: string): Database.Statement {
  let statements = byConnection.get(db);
  if (!statements) {
    statements = new Map();
    byConnection.set(db, statements);
  }
  let statement = statements.get(text);
  if (!statement) {
    statement = db.prepare(text);
    statements.set(text, statement);
  }
  return statement;
}
