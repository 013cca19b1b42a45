import { describe, expect, it } from 'vitest';
import { afterDeletionEvent } from './delete-objects.js';

describe('afterDeletionEvent', () => {
  it('waits until everything listed is deleted', () => {
    const left = new Set(['Pod/a', 'Pod/b']);
    expect(afterDeletionEvent(left, 'DELETED', 'Pod/a', true)).toBe('wait');
    expect(afterDeletionEvent(left, 'MODIFIED', 'Pod/b', true)).toBe('wait');
    expect(afterDeletionEvent(left, 'BOOKMARK', '/', false)).toBe('wait');
    expect(afterDeletionEvent(left, 'DELETED', 'Pod/b', true)).toBe('list again');
    expect(left.size).toBe(0);
  });

  it('lists again when a controller made something new that nobody deletes yet', () => {
    const left = new Set(['Pod/a']);
    expect(afterDeletionEvent(left, 'ADDED', 'Pod/c', true)).toBe('wait');
    expect(afterDeletionEvent(left, 'ADDED', 'Pod/c', false)).toBe('list again');
    expect(afterDeletionEvent(left, 'MODIFIED', 'Pod/d', false)).toBe('list again');
  });
});
