// Encrypts every payload the broker sends to Temporal (workflow inputs and results, activity
// arguments and results, heartbeats, memos, signals, failure messages and stack traces) with
// AES-256-GCM, so that parameters and anything else sensitive never sit in Temporal's database in
// clear text, and so that the worker acts only on payloads the broker wrote:
// - with keys set, a payload that is not encrypted is refused (the workflow task or activity fails,
//   no workflow or activity code runs): only the broker encrypts, whoever else reaches Temporal
//   cannot start a workflow the worker would run;
// - the workflow id is bound into the associated data (and travels in clear in the metadata), so
//   a payload copied from one workflow's history into another workflow is refused.
// The key id travels in the metadata too: keys rotate by adding one in front, old payloads stay
// readable while their key is configured.
//
// Payloads the codec wrote before the workflow id was bound (no `encryption-workflow-id` in their
// metadata) still decrypt, without associated data, so that workflows started before are able to
// finish: only the broker's keys could have made them. Rotating the key (and removing the old one
// once those workflows are done) ends their acceptance.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  defaultPayloadConverter,
  type DataConverter,
  type LoadedDataConverter,
  type Payload,
  type PayloadCodec,
  type SerializationContext,
} from '@temporalio/common';
import proto from '@temporalio/proto';
import { failureConverter } from './failure-converter.js';

// A CommonJS module: its named exports are reachable through the default import only.
const { temporal } = proto;

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const WORKFLOW_ID = 'encryption-workflow-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const text = (s: string) => new TextEncoder().encode(s);
/**
 * Never empty, also for the empty id: payloads written before binding were encrypted without
 * associated data, which GCM does not tell from empty associated data, so a bound payload whose
 * workflow id is stripped from its metadata must not pass for one of those.
 */
const associatedData = (workflowId: string) => text(`workflow-id:${workflowId}`);
const str = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : '');

export class CodecKeyError extends Error {
  override readonly name = 'CodecKeyError';
}

/** A payload the broker did not write for this workflow: not decoded, so nothing runs on it. */
export class PayloadRefusedError extends Error {
  override readonly name = 'PayloadRefusedError';
}

/** Parses `id1:base64key,id2:base64key` (keys of 32 bytes); the first encrypts unless `current` says otherwise. */
export function parseCodecKeys(spec: string, current?: string): { keys: Map<string, Buffer>; current: string } {
  const keys = new Map<string, Buffer>();
  for (const entry of spec
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
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

/**
 * `refuse`: the broker's client and worker. `pass`: the Temporal UI's /codec endpoint, which asks
 * to decode every payload it shows, encrypted or not (search attributes, payloads of other tools).
 */
export type Plaintext = 'refuse' | 'pass';

/** Where a payload is decoded, for messages: "in workflow x" or "in activity 3 of workflow x". */
function where(context: SerializationContext | undefined): string {
  if (!context) return '';
  if (context.type === 'workflow') return ` in workflow ${context.workflowId}`;
  return ` in activity ${context.activityId ?? '?'}${context.workflowId ? ` of workflow ${context.workflowId}` : ''}`;
}

export class AesGcmCodec implements PayloadCodec {
  constructor(
    private readonly keys: Map<string, Buffer>,
    private readonly currentKeyId: string,
    private readonly plaintext: Plaintext = 'refuse',
  ) {}

  /** The same keys for the Temporal UI's /codec endpoint: unencrypted payloads pass through. */
  forInspection(): AesGcmCodec {
    return new AesGcmCodec(this.keys, this.currentKeyId, 'pass');
  }

  /**
   * Binds each payload to the workflow it is for (the SDK's serialization context: the target
   * workflow, or the workflow of an activity). Without a context (the SDK's workflow task failures,
   * /codec/encode) to the empty id: decodable for inspection, refused by any workflow.
   */
  encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    // PayloadCodec is asynchronous, the work here is not: the executor turns a throw into a rejection.
    return new Promise((resolve) => resolve(this.encodeNow(payloads, context)));
  }

  private encodeNow(payloads: Payload[], context?: SerializationContext): Payload[] {
    const key = this.keys.get(this.currentKeyId)!;
    const workflowId = context?.workflowId ?? '';
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(associatedData(workflowId));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: text(ENCODING), [KEY_ID]: text(this.currentKeyId), [WORKFLOW_ID]: text(workflowId) }, data };
    });
  }

  /**
   * With a context that names a workflow, only payloads bound to that workflow (or written before
   * binding existed) decode. Without one (/codec), a payload decodes for the workflow its metadata
   * names, which the authentication tag covers.
   */
  decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    return new Promise((resolve) => resolve(this.decodeNow(payloads, context)));
  }

  private decodeNow(payloads: Payload[], context?: SerializationContext): Payload[] {
    return payloads.map((payload) => {
      const metadata = payload.metadata ?? {};
      if (str(metadata['encoding']) !== ENCODING) {
        if (this.plaintext === 'pass') return payload;
        throw new PayloadRefusedError(
          `payload not encrypted with the broker's keys${where(context)}; was this workflow started by someone other than the broker? (encoding "${str(metadata['encoding'])}" refused: with CODEC_KEYS set, the worker runs only on payloads the broker encrypted)`,
        );
      }
      const keyId = str(metadata[KEY_ID]);
      const key = this.keys.get(keyId);
      if (!key) throw new CodecKeyError(`payload encrypted with key "${keyId}", which is not in CODEC_KEYS: add it back to read old operations`);
      const bound = WORKFLOW_ID in metadata ? str(metadata[WORKFLOW_ID]) : undefined;
      if (bound !== undefined && context?.workflowId !== undefined && bound !== context.workflowId) {
        throw new PayloadRefusedError(
          `payload encrypted for workflow "${bound}" refused${where(context)}: was it copied from another workflow's history by someone other than the broker?`,
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      if (bound !== undefined) decipher.setAAD(associatedData(bound));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadRefusedError(
          `payload does not authenticate with key "${keyId}"${where(context)}: it was altered (its data or the workflow id in its metadata) after the broker encrypted it`,
        );
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** The broker's codec when keys are configured: refuses what it did not encrypt. */
export function codecFor(settings: CodecSettings): AesGcmCodec | undefined {
  if (!settings.CODEC_KEYS) return undefined;
  const { keys, current } = parseCodecKeys(settings.CODEC_KEYS, settings.CODEC_KEY_ID);
  return new AesGcmCodec(keys, current);
}

interface CodecSettings {
  CODEC_KEYS?: string | undefined;
  CODEC_KEY_ID?: string | undefined;
}

/** The client's data converter: encrypted payloads and failures when keys are configured. */
export function clientDataConverter(settings: CodecSettings): LoadedDataConverter | undefined {
  const codec = codecFor(settings);
  return codec && { payloadConverter: defaultPayloadConverter, failureConverter, payloadCodecs: [codec] };
}

/**
 * The worker's: the same, with the failure converter by path (./failure-converter.ts, as source or
 * built), the only way the SDK puts one into the workflows' bundle. Always that converter, with or
 * without keys: the bundle `npm run build` writes carries it too (scripts/bundle-workflows.mjs),
 * and a worker from sources must write the same histories as one from dist.
 */
export function workerDataConverter(settings: CodecSettings, failureConverterPath: string): DataConverter {
  const codec = codecFor(settings);
  return { failureConverterPath, ...(codec ? { payloadCodecs: [codec] } : {}) };
}
