/**
 * Seals secret values before they reach fn.db. The key lives beside the database in
 * dataDir/secrets.key (0600), so a copy of fn.db alone (a backup, a file attached to a bug report)
 * gives away no secret. It is no defence against someone who can read the whole data directory:
 * the worker must be able to open secrets without a human, so the key has to be there.
 *
 * Box: version byte | 12-byte random IV | 16-byte GCM tag | ciphertext. The associated data binds
 * a box to its row (tenant/function/name), so a box copied into another row does not open.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryError } from './errors.js';

export const SECRETS_KEY_FILE = 'secrets.key';
const BOX_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A sealed secret that does not open: wrong secrets.key, or the row was tampered with. */
export class SecretUnreadableError extends RegistryError {
  override name = 'SecretUnreadableError';
}

export class SecretBox {
  private constructor(
    private readonly key: Buffer,
    readonly keyPath: string,
  ) {}

  /** Loads dataDir/secrets.key, creating it on first use. Safe when several processes race. */
  static open(dataDir: string): SecretBox {
    const keyPath = join(dataDir, SECRETS_KEY_FILE);
    try {
      return new SecretBox(readKey(keyPath), keyPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // Write a complete temp file, then link() it into place: link fails if the name exists, so
    // exactly one racer's key wins and nobody ever reads a half-written key.
    const temp = `${keyPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temp, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temp, keyPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(temp, { force: true });
    }
    return new SecretBox(readKey(keyPath), keyPath);
  }

  /**
   * A key file given by path (`--secret-key-file`): it must exist (never created here), since
   * every gateway sharing one registry has to use the very same key.
   */
  static fromFile(keyPath: string): SecretBox {
    try {
      return new SecretBox(readKey(keyPath), keyPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new RegistryError(
        `the secrets key file ${keyPath} does not exist: copy secrets.key from the data directory of the gateway that started the registry ` +
          `(or create a new key with \`head -c ${KEY_BYTES} /dev/urandom > ${keyPath}\` before the first gateway starts)`,
      );
    }
  }

  /**
   * Names the key without revealing it (an HMAC of a fixed text), so gateways sharing a registry
   * can check they seal with the same key before one of them writes a secret others cannot open.
   */
  fingerprint(): string {
    return createHmac('sha256', this.key).update('fn secrets key fingerprint').digest('hex').slice(0, 16);
  }

  seal(plain: string, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([BOX_VERSION]), iv, cipher.getAuthTag(), body]);
  }

  /** `what` names the secret in the error (never its value). */
  open(box: Buffer, context: string, what: string): string {
    try {
      if (box[0] !== BOX_VERSION) throw new Error(`unknown box version ${box[0]}`);
      const iv = box.subarray(1, 1 + IV_BYTES);
      const tag = box.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(box.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new SecretUnreadableError(
        `${what} cannot be decrypted with ${this.keyPath}: the key file was replaced, or fn.db came from another ` +
          'data directory. Restore the original secrets.key, or set the secret again.',
        { cause },
      );
    }
  }
}

function readKey(path: string): Buffer {
  const key = readFileSync(path);
  if (key.length !== KEY_BYTES) {
    throw new RegistryError(`${path} is ${key.length} bytes, expected ${KEY_BYTES}: restore it from a backup of the data directory`);
  }
  return key;
}
