// lastOperationOf: the OSB answer from one workflow description; SharedPolls: coalescing. (findOperationRun against Temporal needs a
// Temporal client; the integration tests cover it.)
import { describe, expect, it } from 'vitest';
import { BrokerError } from './errors.js';
import type { OperationMemo } from '../workflows/types.js';
import type { Client } from '@temporalio/client';
import { describeResponse, describingClient } from './describe-stand-in.js';
import { completedRun, findOperationRun, isRunning, lastOperationOf, memoOf, SharedPolls } from './operation-state.js';

type Status = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'CONTINUED_AS_NEW' | 'TIMED_OUT';
type Run = Parameters<typeof lastOperationOf>[0] & {};

/** A described run: what lastOperationOf reads of a WorkflowExecutionDescription. */
function run(type: string, status: Status, memo: Partial<OperationMemo> = {}): Run {
  return { type, status: { name: status, code: 0 }, memo, runId: 'run-1', startTime: new Date(0) };
}

const TYPES = {
  provision: 'provisionInstance',
  update: 'updateInstance',
  deprovision: 'deprovisionInstance',
  bind: 'bindInstance',
  unbind: 'unbindInstance',
} as const;

/** The BrokerError lastOperationOf throws, or fails. */
function thrown(fn: () => unknown): BrokerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BrokerError);
    return err as BrokerError;
  }
  throw new Error('did not throw');
}

describe('lastOperationOf', () => {
  it('404 when no run is known', () => {
    const err = thrown(() => lastOperationOf(undefined, 'provision-1'));
    expect(err.status).toBe(404);
    expect(err.body()).toEqual({ error: 'NotFound', description: 'no operation is known for this resource' });
  });

  describe.each(Object.entries(TYPES))('%s', (op, workflowType) => {
    const token = `${op}-0a1b2c3d`;
    const memo = { operation: token, requestDigest: 'd' };

    it('RUNNING → in progress, naming the operation', () => {
      expect(lastOperationOf(run(workflowType, 'RUNNING', memo), token)).toEqual({ state: 'in progress', description: `${op} in progress` });
    });

    it('the latest operation when the request names none', () => {
      expect(lastOperationOf(run(workflowType, 'RUNNING', memo), undefined)).toEqual({ state: 'in progress', description: `${op} in progress` });
    });

    if (op === 'deprovision' || op === 'unbind') {
      it('COMPLETED → 410 Gone with an empty body (the resource is gone)', () => {
        const err = thrown(() => lastOperationOf(run(workflowType, 'COMPLETED', memo), token));
        expect(err.status).toBe(410);
        expect(err.body()).toEqual({});
        // Asked without an operation, the latest one decides.
        expect(thrown(() => lastOperationOf(run(workflowType, 'COMPLETED', memo), undefined)).status).toBe(410);
      });
    } else {
      it('COMPLETED → succeeded', () => {
        expect(lastOperationOf(run(workflowType, 'COMPLETED', memo), token)).toEqual({ state: 'succeeded' });
      });
    }

    it.each(['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'] as const)("%s → failed, with the memo's description", (status) => {
      const failure = { description: `${op} failed: the pods never became ready`, instanceUsable: false, updateRepeatable: false };
      const answer = lastOperationOf(run(workflowType, status, { ...memo, failure }), token);
      expect(answer.state).toBe('failed');
      expect(answer.description).toBe(failure.description);
    });

    it.each([
      ['FAILED', 'failed'],
      ['CANCELLED', 'cancelled'],
      ['TERMINATED', 'terminated'],
      ['TIMED_OUT', 'timed out'],
    ] as const)('%s without a memo failure → a description pointing to Temporal', (status, words) => {
      const answer = lastOperationOf(run(workflowType, status, memo), token);
      expect(answer).toMatchObject({ state: 'failed', description: `${op} ${words} (see the workflow in Temporal)` });
    });

    const usableFields = op === 'update' || op === 'deprovision';
    it(`instance_usable ${usableFields ? 'is' : 'is not'} reported${op === 'update' ? ', update_repeatable too' : ''}`, () => {
      const failure = { description: 'x', instanceUsable: false, updateRepeatable: false };
      const withFailure = lastOperationOf(run(workflowType, 'FAILED', { ...memo, failure }), token);
      const withoutFailure = lastOperationOf(run(workflowType, 'TERMINATED', memo), token);
      if (op === 'update') {
        expect(withFailure).toEqual({ state: 'failed', description: 'x', instance_usable: false, update_repeatable: false });
        // Unknown: the instance is presumed usable and the update repeatable.
        expect(withoutFailure).toMatchObject({ instance_usable: true, update_repeatable: true });
      } else if (op === 'deprovision') {
        expect(withFailure).toEqual({ state: 'failed', description: 'x', instance_usable: false });
        expect(withoutFailure).toMatchObject({ instance_usable: true });
        expect(withoutFailure).not.toHaveProperty('update_repeatable');
      } else {
        expect(withFailure).toEqual({ state: 'failed', description: 'x' });
        expect(withoutFailure).not.toHaveProperty('instance_usable');
        expect(withoutFailure).not.toHaveProperty('update_repeatable');
      }
    });
  });

  it('CONTINUED_AS_NEW: the provision a DELETE stopped has failed', () => {
    expect(lastOperationOf(run(TYPES.provision, 'CONTINUED_AS_NEW', { operation: 'provision-1', requestDigest: 'd' }), 'provision-1')).toEqual({
      state: 'failed',
      description: 'provisioning was stopped by a delete request',
    });
  });

  describe('a DELETE signalled to a running provision (pendingOperation)', () => {
    const memo = { operation: 'provision-1', requestDigest: 'd', pendingOperation: 'deprovision-2' };

    it('the deprovision is in progress while the provision stops', () => {
      expect(lastOperationOf(run(TYPES.provision, 'RUNNING', memo), 'deprovision-2')).toEqual({
        state: 'in progress',
        description: 'deprovisioning: stopping the provision first',
      });
    });

    it('without an operation, the pending deprovision is the latest', () => {
      expect(lastOperationOf(run(TYPES.provision, 'RUNNING', memo), undefined)).toEqual({
        state: 'in progress',
        description: 'deprovisioning: stopping the provision first',
      });
    });

    it('the provision itself is still reported by its own token', () => {
      expect(lastOperationOf(run(TYPES.provision, 'RUNNING', memo), 'provision-1')).toEqual({ state: 'in progress', description: 'provision in progress' });
      expect(lastOperationOf(run(TYPES.provision, 'CONTINUED_AS_NEW', memo), 'provision-1').state).toBe('failed');
    });
  });

  it('an operation token of no known type still gets an answer', () => {
    expect(lastOperationOf(run(TYPES.provision, 'RUNNING', { operation: 'weird', requestDigest: '' }), 'weird')).toEqual({
      state: 'in progress',
      description: 'operation in progress',
    });
    expect(lastOperationOf(run(TYPES.provision, 'FAILED', {}), undefined)).toEqual({
      state: 'failed',
      description: 'operation failed (see the workflow in Temporal)',
    });
  });
});

describe('memoOf and isRunning', () => {
  it('memoOf tolerates a run without memo', () => {
    expect(memoOf({ memo: undefined })).toEqual({});
    expect(memoOf({ memo: { operation: 'bind-1' } })).toEqual({ operation: 'bind-1' });
  });

  it('completedRun: a running run whose wait said it completed answers as completed, with its memo', () => {
    const memo = { operation: 'provision-0a1b2c3d', requestDigest: 'd' };
    const done = completedRun(run(TYPES.provision, 'RUNNING', memo));
    expect(done.status.name).toBe('COMPLETED');
    expect(isRunning(done)).toBe(false);
    expect(lastOperationOf(done, 'provision-0a1b2c3d')).toEqual({ state: 'succeeded' });
    expect(thrown(() => lastOperationOf(completedRun(run(TYPES.unbind, 'RUNNING', { operation: 'unbind-1' })), 'unbind-1')).status).toBe(410);
    // A DELETE waiting for the provision to stop is not answered by the provision's completion.
    const pending = completedRun(run(TYPES.provision, 'RUNNING', { ...memo, pendingOperation: 'deprovision-1' }));
    expect(lastOperationOf(pending, 'deprovision-1').state).toBe('in progress');
  });

  it('isRunning only for RUNNING runs', () => {
    expect(isRunning(undefined)).toBe(false);
    expect(isRunning(run(TYPES.bind, 'RUNNING'))).toBe(true);
    for (const status of ['COMPLETED', 'FAILED', 'CONTINUED_AS_NEW'] as const) expect(isRunning(run(TYPES.bind, status))).toBe(false);
  });
});

describe('SharedPolls', () => {
  // Only the coalescing is under test here: a counting stand-in for the DescribeWorkflowExecution call.
  function countingClient(memo: Partial<OperationMemo>) {
    const calls = { n: 0 };
    const client = describingClient(async () => {
      calls.n++;
      await new Promise((r) => setTimeout(r, 20));
      return describeResponse('run-1', memo);
    });
    return { client, calls };
  }

  it('concurrent polls of one operation share one describe; the next poll asks again', async () => {
    const { client, calls } = countingClient({ operation: 'provision-1' });
    const shared = new SharedPolls(client);
    const runs = await Promise.all(Array.from({ length: 10 }, () => findOperationRun(client, 'instance:a', 'provision-1', shared)));
    expect(runs.every((r) => memoOf(r!).operation === 'provision-1')).toBe(true);
    expect(calls.n).toBe(1);
    await findOperationRun(client, 'instance:a', 'provision-1', shared);
    expect(calls.n).toBe(2);
  });

  it('a shared answer that does not carry the operation is not trusted: asked again', async () => {
    const { client, calls } = countingClient({ operation: 'provision-1' });
    const shared = new SharedPolls(client);
    await expect(findOperationRun(client, 'instance:a', 'update-2', shared).catch((e: unknown) => e)).resolves.toBeDefined();
    // One shared describe, one fresh describe (and then the visibility list, absent here).
    expect(calls.n).toBe(2);
  });

  it('concurrent waits for one run share one long poll; later waits start another; the outcome says how it ended', async () => {
    const calls = { n: 0 };
    const client = {
      connection: { withDeadline: (_deadline: Date, fn: () => Promise<unknown>) => fn() },
      workflow: {
        getHandle: () => ({
          result: async () => {
            calls.n++;
            await new Promise((r) => setTimeout(r, 20));
          },
        }),
      },
    } as unknown as Client;
    const shared = new SharedPolls(client);
    const until = new Date(Date.now() + 60_000);
    const closed = await Promise.all(Array.from({ length: 10 }, () => shared.waitForClose('instance:a', 'run-1', until)));
    expect(closed).toEqual(Array.from({ length: 10 }, () => 'completed'));
    expect(calls.n).toBe(1);
    await shared.waitForClose('instance:a', 'run-1', until);
    expect(calls.n).toBe(2);
    // A moment already past costs no call at all.
    expect(await shared.waitForClose('instance:a', 'run-2', new Date(Date.now() - 1))).toBe('running');
    expect(calls.n).toBe(2);
  });
});
