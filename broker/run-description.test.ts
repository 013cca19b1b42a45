// describeRun: what the broker reads of the latest run, decoding only the memo; MemoCache: a memo
// is decrypted again whenever its run or its bytes differ, never served across runs or changes.
import { randomBytes } from 'node:crypto';
import { NamespaceNotFoundError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { describeResponse, describingClient } from './describe-stand-in.js';
import { describeRun, MemoCache } from './run-description.js';
import { clientDataConverter } from '../platform/temporal/codec.js';

const { temporal } = proto;
const KEYS = `k1:${randomBytes(32).toString('base64')}`;
const Status = temporal.api.enums.v1.WorkflowExecutionStatus;

/** Memo payloads as the broker writes them: encrypted for workflow `w`. */
async function encrypted(memo: Record<string, unknown>) {
  const converter = clientDataConverter({ CODEC_KEYS: KEYS })!;
  const codec = converter.payloadCodecs[0]!;
  const entries = await Promise.all(
    Object.entries(memo).map(
      async ([k, v]) =>
        [k, (await codec.encode([converter.payloadConverter.toPayload(v)], { type: 'workflow', namespace: 'default', workflowId: 'w' }))[0]!] as const,
    ),
  );
  return { fields: Object.fromEntries(entries) };
}

/** A client answering `responses` in turn, counting the memo payloads its codec decodes. */
function scripted(responses: ReturnType<typeof describeResponse>[]) {
  const client = describingClient(() => Promise.resolve(responses.shift()!), KEYS);
  const decoded = { n: 0 };
  const codec = client.options.loadedDataConverter.payloadCodecs[0]!;
  const decode = codec.decode.bind(codec);
  codec.decode = (payloads, context) => ((decoded.n += payloads.length), decode(payloads, context));
  return { client, decoded };
}

describe('describeRun', () => {
  it('reads type, run id, status, start time and the decrypted memo', async () => {
    const { client } = scripted([describeResponse('run-1', await encrypted({ operation: 'provision-1', requestDigest: 'd' }))]);
    expect(await describeRun(client, 'w')).toEqual({
      type: 'provisionInstance',
      runId: 'run-1',
      status: { code: Status.WORKFLOW_EXECUTION_STATUS_RUNNING, name: 'RUNNING' },
      startTime: new Date(1_700_000_000_500),
      memo: { operation: 'provision-1', requestDigest: 'd' },
    });
  });

  it('names statuses as the SDK does', async () => {
    const { client } = scripted([describeResponse('run-1', {}, Status.WORKFLOW_EXECUTION_STATUS_CANCELED)]);
    expect((await describeRun(client, 'w'))?.status.name).toBe('CANCELLED');
  });

  it('a workflow Temporal does not know is none; a missing namespace and other failures are errors', async () => {
    const grpcError = (code: number, details?: Buffer) =>
      Object.assign(new Error('x'), { code, details: 'x', metadata: { get: () => (details ? [details] : []) } });
    expect(
      await describeRun(
        describingClient(() => Promise.reject(grpcError(5))),
        'w',
      ),
    ).toBeUndefined();
    const status = temporal.api.errordetails.v1.NamespaceNotFoundFailure;
    const details = Buffer.from(
      proto.google.rpc.Status.encode({
        code: 5,
        details: [
          { type_url: 'type.googleapis.com/temporal.api.errordetails.v1.NamespaceNotFoundFailure', value: status.encode({ namespace: 'nope' }).finish() },
        ],
      }).finish(),
    );
    await expect(
      describeRun(
        describingClient(() => Promise.reject(grpcError(5, details))),
        'w',
      ),
    ).rejects.toBeInstanceOf(NamespaceNotFoundError);
    const unavailable = await describeRun(
      describingClient(() => Promise.reject(grpcError(14))),
      'w',
    ).catch((e: unknown) => e);
    expect(((unavailable as Error).cause as { code: number }).code).toBe(14);
  });
});

describe('MemoCache', () => {
  it('decrypts a run’s memo once while its bytes stay the same', async () => {
    const memo = await encrypted({ operation: 'provision-1', requestDigest: 'd' });
    const { client, decoded } = scripted([describeResponse('run-1', memo), describeResponse('run-1', memo), describeResponse('run-1', memo)]);
    const memos = new MemoCache();
    for (let i = 0; i < 3; i++) expect((await describeRun(client, 'w', memos))?.memo).toEqual({ operation: 'provision-1', requestDigest: 'd' });
    expect(decoded.n).toBe(2);
  });

  it('decodes afresh when the run changed its memo (a failure recorded, a DELETE pending)', async () => {
    const before = await encrypted({ operation: 'provision-1', requestDigest: 'd' });
    const after = await encrypted({ operation: 'provision-1', requestDigest: 'd', pendingOperation: 'deprovision-2' });
    const { client } = scripted([describeResponse('run-1', before), describeResponse('run-1', after)]);
    const memos = new MemoCache();
    await describeRun(client, 'w', memos);
    expect((await describeRun(client, 'w', memos))?.memo).toEqual({ operation: 'provision-1', requestDigest: 'd', pendingOperation: 'deprovision-2' });
  });

  it('never answers for another run: a retry (a reset into a new run) with the same operation token is decoded afresh', async () => {
    const failed = await encrypted({ operation: 'provision-1', requestDigest: 'd', failure: { description: 'it broke' } });
    const retried = await encrypted({ operation: 'provision-1', requestDigest: 'd' });
    const { client, decoded } = scripted([
      describeResponse('run-1', failed, Status.WORKFLOW_EXECUTION_STATUS_FAILED),
      describeResponse('run-2', retried, Status.WORKFLOW_EXECUTION_STATUS_RUNNING),
    ]);
    const memos = new MemoCache();
    expect((await describeRun(client, 'w', memos))?.memo).toHaveProperty('failure');
    const second = await describeRun(client, 'w', memos);
    expect(second?.runId).toBe('run-2');
    expect(second?.status.name).toBe('RUNNING');
    expect(second?.memo).toEqual({ operation: 'provision-1', requestDigest: 'd' });
    expect(decoded.n).toBe(3 + 2); // every field of both memos
  });

  it('is bounded: the least recently used run leaves first', () => {
    const memos = new MemoCache(2);
    const fields = { operation: { metadata: {}, data: new Uint8Array([1]) } };
    memos.set('w', 'run-1', fields, { n: 1 });
    memos.set('w', 'run-2', fields, { n: 2 });
    expect(memos.get('w', 'run-1', fields)).toEqual({ n: 1 });
    memos.set('w', 'run-3', fields, { n: 3 });
    expect(memos.count).toBe(2);
    expect(memos.get('w', 'run-2', fields)).toBeUndefined();
    expect(memos.get('w', 'run-1', fields)).toEqual({ n: 1 });
    // Same run id, other workflow id or other bytes: not this entry.
    expect(memos.get('other', 'run-1', fields)).toBeUndefined();
    expect(memos.get('w', 'run-1', { operation: { metadata: {}, data: new Uint8Array([2]) } })).toBeUndefined();
    expect(memos.get('w', 'run-1', { operation: { metadata: { encoding: new Uint8Array([9]) }, data: new Uint8Array([1]) } })).toBeUndefined();
  });
});
