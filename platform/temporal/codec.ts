// Encrypts every payload the broker sends to Temporal (workflow inputs and results, activity
// arguments, memos, failure details) with AES-256-GCM, so that parameters and anything else
// sensitive never sit in Temporal's database in clear text. The key id travels in the payload's
// metadata: keys can rotate, old payloads stay readable while their key is configured.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

// A CommonJS module: its named exports are reachable through the default import only.
const { temporal } = proto;

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : '');

export class CodecKeyError extends Error {
  override readonly name = 'CodecKeyError';
}

/** Parses `id1:base64key,id2:base64key` (keys of 32 bytes); the first encrypts unless `current` says otherwise. */
export function parseCodecKeys(spec: string, current?: string): { keys: Map<string, Buffer>; current: string } {
  const keys = new Map<string, Buffer>();
  for (const entry of spec.split(',').map((e) => e.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (colon < 1 || key.length !== 32) {
      throw new CodecKeyError(`CODEC_KEYS entry "${id || entry.slice(0, 8)}..." must be <key id>:<32 bytes in base64> (openssl rand -base64 32)`);
    }
    keys.set(id, key);
  }
  const chosen = current ?? keys.keys().next().value;
  if (!chosen || !keys.has(chosen)) throw new CodecKeyError(`CODEC_KEY_ID "${current ?? ''}" is not one of the CODEC_KEYS ids`);
  return { keys, current: chosen };
}

export class AesGcmCodec implements PayloadCodec {
  constructor(
    private readonly keys: Map<string, Buffer>,
    private readonly currentKeyId: string,
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.currentKeyId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: text(ENCODING), [KEY_ID]: text(this.currentKeyId) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (str(payload.metadata?.['encoding']) !== ENCODING) return payload;
      const keyId = str(payload.metadata?.[KEY_ID]);
      const key = this.keys.get(keyId);
      if (!key) throw new CodecKeyError(`payload encrypted with key "${keyId}", which is not in CODEC_KEYS: add it back to read old operations`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** The data converter options of client and worker: encrypted when keys are configured. */
export function dataConverterFor(settings: { CODEC_KEYS?: string | undefined; CODEC_KEY_ID?: string | undefined }) {
  if (!settings.CODEC_KEYS) return undefined;
  const { keys, current } = parseCodecKeys(settings.CODEC_KEYS, settings.CODEC_KEY_ID);
  return { payloadCodecs: [new AesGcmCodec(keys, current)] };
}
