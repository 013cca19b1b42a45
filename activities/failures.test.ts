import { ApplicationFailure } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { KubeApiError, KubeUnavailableError } from '../platform/kube/errors.js';
import { byDeadline } from './failures.js';

const unreachable = () =>
  Promise.reject(new KubeUnavailableError('GET', '/api/v1/pods', 'https://10.0.0.1:6443/ (cluster far)', new Error('connect ECONNREFUSED')));

describe('byDeadline', () => {
  it('before the deadline, leaves a failure Temporal retries as it is', async () => {
    await expect(byDeadline(Date.now() + 60_000, unreachable)).rejects.toMatchObject({ nonRetryable: false, type: 'KubernetesUnavailable' });
  });

  it('after the deadline, ends the operation with the last error, naming the cluster, and what to do', async () => {
    const failure = await byDeadline(Date.now() - 1, unreachable).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ nonRetryable: true, type: 'KubernetesUnavailableUntilDeadline' });
    expect((failure as Error).message).toMatch(/cluster far.*ECONNREFUSED.*operation's deadline: check that this Kubernetes API server is reachable/);
    const busy = await byDeadline(Date.now() - 1, () => Promise.reject(KubeApiError.fromResponse('GET', '/x', 429, '{}', 'https://k (cluster far)'))).catch(
      (err: unknown) => err,
    );
    expect((busy as Error).message).toMatch(/GET \/x: 429 Unknown from https:\/\/k \(cluster far\)/);
  });

  it('leaves a failure that is final anyway as it is', async () => {
    const final = ApplicationFailure.nonRetryable('objects still there', 'NotGone');
    await expect(byDeadline(Date.now() - 1, () => Promise.reject(final))).rejects.toBe(final);
  });
});
