// Encryption at rest of small secrets kept in the store (the authorization server's private
// keys), with AES-256-GCM under KEY_ENCRYPTION_KEY. Without a key (allowed in the sandbox only)
// secrets are kept as they are, marked as such.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PLAIN = 'plain:';
const SEALED = 'aes256gcm:';

export interface SecretBox {
  seal(plaintext: string): string;
  open(stored: string): string;
}

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

export function secretBox(key: Buffer | undefined): SecretBox {
  if (key && key.length !== 32) throw new SecretBoxError('the key encryption key must be 32 bytes');
  return {
    seal(plaintext) {
      if (!key) return `${PLAIN}${plaintext}`;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${SEALED}${[iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64url')).join('.')}`;
    },
    open(stored) {
      // A secret written before a key was configured stays readable; rotating re-creates it sealed.
      if (stored.startsWith(PLAIN)) return stored.slice(PLAIN.length);
      if (!stored.startsWith(SEALED)) throw new SecretBoxError('unknown secret format in the store');
      if (!key) throw new SecretBoxError('the store holds encrypted secrets: set KEY_ENCRYPTION_KEY');
      const [iv, tag, ciphertext] = stored.slice(SEALED.length).split('.').map((part) => Buffer.from(part, 'base64url'));
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv!);
        decipher.setAuthTag(tag!);
        return Buffer.concat([decipher.update(ciphertext!), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError('a secret in the store cannot be decrypted with KEY_ENCRYPTION_KEY');
      }
    },
  };
}
