import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { EncryptionKey } from '../common/config';

// Alert descriptions, authorisedBy and usernames are personal data about people in prison: every payload that
// Temporal stores (inputs, results, signals, queries, failure details) is AES-256-GCM ciphertext. The whole
// original Payload is encrypted, its metadata too, so not even the encoding of a value leaks.

const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = new TextEncoder();
const text = new TextDecoder();

class UnknownEncryptionKeyError extends Error {
  override name = 'UnknownEncryptionKeyError';
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;

  /** `keyId` encrypts; every key decrypts, so a key can rotate while old histories stay readable. */
  constructor(
    keys: EncryptionKey[],
    private readonly keyId: string,
  ) {
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    if (!this.keys.has(keyId)) throw new UnknownEncryptionKeyError(`no key with id ${keyId}`);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.keyId)!, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID]: utf8.encode(this.keyId) },
        data: new Uint8Array(sealed),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Histories written before encryption was switched on stay readable (and replayable).
      if (!isEncrypted(payload)) return payload;
      const keyId = text.decode(payload.metadata?.[KEY_ID] ?? new Uint8Array());
      const key = this.keys.get(keyId);
      if (!key) {
        throw new UnknownEncryptionKeyError(
          `payload encrypted with key "${keyId}", which is not in PAYLOAD_ENCRYPTION_KEYS (a rotated-out key?)`,
        );
      }
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
      const decoded = temporal.api.common.v1.Payload.decode(plain);
      return { metadata: decoded.metadata ?? {}, data: decoded.data ?? undefined };
    });
  }
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && text.decode(encoding) === ENCRYPTED_ENCODING;
}
