/**
 * The API key format and its hash, with no storage: `fn_<id>_<secret>`, where id is 16 hex
 * characters (8 random bytes, not secret: it finds the row) and secret is 32 random bytes in
 * base64url (43 characters).
 *
 * Why plain sha256 and not bcrypt/scrypt/argon2: slow hashes exist to make guessing low-entropy
 * passwords expensive. A key carrying 256 random bits cannot be guessed however fast the hash is,
 * so a slow hash would buy nothing and cost milliseconds on every authenticated request. The hash
 * covers the whole key, id included, so a stored hash is bound to its id.
 */
import { createHash, randomBytes } from 'node:crypto';

const KEY_FORMAT = /^fn_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;
export const KEY_ID_FORMAT = /^[0-9a-f]{16}$/;

export function generateKey(): { id: string; secret: string } {
  const id = randomBytes(8).toString('hex');
  return { id, secret: `fn_${id}_${randomBytes(32).toString('base64url')}` };
}

/**
 * The row id for a presented key: the embedded id for our format; for a key adopted from
 * FN_API_KEY (any string the operator chose), an id derived from its hash, so lookup stays one
 * indexed read for every key.
 */
export function keyIdOf(key: string): string {
  const match = KEY_FORMAT.exec(key);
  if (match) return match[1]!;
  return createHash('sha256').update('fn-adopted-key-id\0').update(key).digest('hex').slice(0, 16);
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
