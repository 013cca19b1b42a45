import { describe, expect, it } from 'vitest';
import type { StoredInstance } from '../platform/kube/records.js';
import { justCreated } from './just-created.js';

const stored = (instanceId: string) => ({ record: { instanceId }, randoms: {} }) as unknown as StoredInstance;

describe('justCreated', () => {
  it('hands a record over once, to the same run and instance only', () => {
    justCreated.put('run-1', stored('a'));
    expect(justCreated.take('run-2', 'a')).toBeUndefined();
    expect(justCreated.take('run-1', 'b')).toBeUndefined(); // and it is gone
    justCreated.put('run-1', stored('a'));
    expect(justCreated.take('run-1', 'a')?.record.instanceId).toBe('a');
    expect(justCreated.take('run-1', 'a')).toBeUndefined();
  });

  it('ignores activities outside a workflow', () => {
    justCreated.put(undefined, stored('a'));
    expect(justCreated.take(undefined, 'a')).toBeUndefined();
  });
});
