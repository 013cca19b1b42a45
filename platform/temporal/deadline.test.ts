import { describe, expect, it } from 'vitest';
import { ranOutOfTime } from './deadline.js';

/** An error shaped as grpc-js reports a call's status (code 1: CANCELLED, 4: DEADLINE_EXCEEDED). */
const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
const wrapped = (cause: Error) => Object.assign(new Error('workflow result'), { cause });

describe('ranOutOfTime', () => {
  const past = Date.now() - 1;
  const future = Date.now() + 60_000;

  it('is true for DEADLINE_EXCEEDED, however deep the cause', () => {
    expect(ranOutOfTime(grpcError(4, 'Deadline exceeded'), future)).toBe(true);
    expect(ranOutOfTime(wrapped(grpcError(4, 'Deadline exceeded')), future)).toBe(true);
  });

  it('is true for CANCELLED once the deadline has passed: the call was cut at it', () => {
    expect(ranOutOfTime(grpcError(1, 'Call cancelled'), past)).toBe(true);
    expect(ranOutOfTime(wrapped(grpcError(1, 'Call cancelled')), past)).toBe(true);
  });

  it('is false for CANCELLED before the deadline, and for any other error', () => {
    expect(ranOutOfTime(grpcError(1, 'Call cancelled'), future)).toBe(false);
    expect(ranOutOfTime(grpcError(14, 'Unavailable'), past)).toBe(false);
    expect(ranOutOfTime(new Error('workflow failed'), past)).toBe(false);
  });
});
