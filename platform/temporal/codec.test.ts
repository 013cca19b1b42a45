import { createCipheriv, randomBytes } from 'node:crypto';
import { ApplicationFailure, defaultPayloadConverter, type Payload, type SerializationContext } from '@temporalio/common';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { AesGcmCodec, CodecKeyError, PayloadRefusedError, clientDataConverter, codecFor } from './codec.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const codecA = new AesGcmCodec(new Map([['a', keyA]]), 'a');
const wf = (workflowId: string): SerializationContext => ({ type: 'workflow', namespace: 'default', workflowId });
const activity = (workflowId: string): SerializationContext => ({ type: 'activity', namespace: 'default', workflowId, activityId: '3', isLocal: false });

const input = { instanceId: 'i-1', namespace: 'kube-system' };
const plain = () => defaultPayloadConverter.toPayload(input);
const meta = (p: Payload, key: string) => Buffer.from(p.metadata![key]!).toString();
const value = (p: Payload) => defaultPayloadConverter.fromPayload(p);

/** A payload as the codec wrote it before workflow ids were bound: no associated data, no id in its metadata. */
function legacy(payload: Payload, keyId: string, key: Buffer): Payload {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([iv, cipher.update(proto.temporal.api.common.v1.Payload.encode(payload).finish()), cipher.final(), cipher.getAuthTag()]);
  return { metadata: { encoding: Buffer.from('binary/encrypted'), 'encryption-key-id': Buffer.from(keyId) }, data };
}

describe('AesGcmCodec', () => {
  it('encrypts, names its key and its workflow in clear, and decodes in that workflow and its activities', async () => {
    const [encoded] = await codecA.encode([plain()], wf('instance-i-1'));
    expect(meta(encoded!, 'encoding')).toBe('binary/encrypted');
    expect(meta(encoded!, 'encryption-key-id')).toBe('a');
    expect(meta(encoded!, 'encryption-workflow-id')).toBe('instance-i-1');
    expect(Buffer.from(encoded!.data!).toString('latin1')).not.toContain('kube-system');
    expect(value((await codecA.decode([encoded!], wf('instance-i-1')))[0]!)).toEqual(input);
    expect(value((await codecA.decode([encoded!], activity('instance-i-1')))[0]!)).toEqual(input);
    // Without a context (the /codec endpoint), for the workflow its metadata names.
    expect(value((await codecA.decode([encoded!]))[0]!)).toEqual(input);
  });

  it('refuses a payload that is not encrypted, with or without a context, and says why', async () => {
    await expect(codecA.decode([plain()], wf('x'))).rejects.toThrow(PayloadRefusedError);
    await expect(codecA.decode([plain()], wf('x'))).rejects.toThrow(
      /payload not encrypted with the broker's keys in workflow x; was this workflow started by someone other than the broker\? \(encoding "json\/plain" refused/,
    );
    await expect(codecA.decode([plain()], activity('x'))).rejects.toThrow(/in activity 3 of workflow x/);
    await expect(codecA.decode([plain()])).rejects.toThrow(PayloadRefusedError);
  });

  it('for the Temporal UI (forInspection), passes unencrypted payloads through and still decrypts', async () => {
    const inspection = codecA.forInspection();
    const [encoded] = await codecA.encode([plain()], wf('instance-i-1'));
    const decoded = await inspection.decode([plain(), encoded!]);
    expect(decoded.map(value)).toEqual([input, input]);
    // Its encodes are refused by any workflow: what /codec/encode makes cannot start one.
    const [made] = await inspection.encode([plain()]);
    expect(meta(made!, 'encryption-workflow-id')).toBe('');
    await expect(codecA.decode([made!], wf('instance-i-1'))).rejects.toThrow(PayloadRefusedError);
  });

  it('refuses a payload copied from another workflow, also with its metadata rewritten or removed', async () => {
    const [encoded] = await codecA.encode([plain()], wf('instance-i-1'));
    await expect(codecA.decode([encoded!], wf('forged'))).rejects.toThrow(/payload encrypted for workflow "instance-i-1" refused in workflow forged/);
    await expect(codecA.decode([encoded!], activity('forged'))).rejects.toThrow(PayloadRefusedError);
    // The workflow id in clear is covered by the tag: rewriting it does not help.
    const rewritten = { ...encoded!, metadata: { ...encoded!.metadata, 'encryption-workflow-id': Buffer.from('forged') } };
    await expect(codecA.decode([rewritten], wf('forged'))).rejects.toThrow(/does not authenticate with key "a" in workflow forged/);
    // Removing it, to pass for a payload written before binding, does not either.
    const { 'encryption-workflow-id': _dropped, ...withoutId } = encoded!.metadata!;
    await expect(codecA.decode([{ ...encoded!, metadata: withoutId }], wf('forged'))).rejects.toThrow(PayloadRefusedError);
  });

  it('refuses altered ciphertext', async () => {
    const [encoded] = await codecA.encode([plain()], wf('w'));
    const data = Buffer.from(encoded!.data!);
    data[20] = data[20]! ^ 1;
    await expect(codecA.decode([{ ...encoded!, data }], wf('w'))).rejects.toThrow(PayloadRefusedError);
  });

  it('accepts payloads written before workflow ids were bound (only the keys could make them), in any workflow', async () => {
    const old = legacy(plain(), 'a', keyA);
    expect(value((await codecA.decode([old], wf('instance-i-1')))[0]!)).toEqual(input);
    expect(value((await codecA.decode([old]))[0]!)).toEqual(input);
    await expect(codecA.decode([legacy(plain(), 'a', keyB)], wf('w'))).rejects.toThrow(PayloadRefusedError);
  });

  it('rotates by adding a key in front: old payloads decode, new ones use the new key; a removed key is named', async () => {
    const rotated = codecFor({ CODEC_KEYS: `b:${keyB.toString('base64')},a:${keyA.toString('base64')}` })!;
    const [old] = await codecA.encode([plain()], wf('w'));
    expect(value((await rotated.decode([old!], wf('w')))[0]!)).toEqual(input);
    expect(value((await rotated.decode([legacy(plain(), 'a', keyA)], wf('w')))[0]!)).toEqual(input);
    const [fresh] = await rotated.encode([plain()], wf('w'));
    expect(meta(fresh!, 'encryption-key-id')).toBe('b');
    await expect(codecA.decode([fresh!], wf('w'))).rejects.toThrow(
      new CodecKeyError('payload encrypted with key "b", which is not in CODEC_KEYS: add it back to read old operations'),
    );
  });
});

describe('clientDataConverter', () => {
  it('is off without keys', () => {
    expect(clientDataConverter({})).toBeUndefined();
  });

  it('puts failure messages and stack traces into a payload the codec encrypts', async () => {
    const converter = clientDataConverter({ CODEC_KEYS: `a:${keyA.toString('base64')}` })!;
    const failure = converter.failureConverter.errorToFailure(
      ApplicationFailure.create({ message: 'namespace kube-system is not ours' }),
      converter.payloadConverter,
    );
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    const [encrypted] = await converter.payloadCodecs[0]!.encode([failure.encodedAttributes!], wf('w'));
    expect(Buffer.from(encrypted!.data!).toString('latin1')).not.toContain('kube-system');
    const [decrypted] = await converter.payloadCodecs[0]!.decode([encrypted!], wf('w'));
    expect(value(decrypted!)).toMatchObject({ message: 'namespace kube-system is not ours' });
  });
});
