import { describe, expect, it } from 'vitest';
import { INSTANCE_ID_LABEL, instanceSelector, isValidLabelValue, MANAGED_BY, MANAGED_BY_LABEL } from './labels.js';

describe('labels', () => {
  it('names the labels the broker finds objects by', () => {
    expect(INSTANCE_ID_LABEL).toBe('service_id');
    expect(MANAGED_BY_LABEL).toBe('app.kubernetes.io/managed-by');
    expect(MANAGED_BY).toBe('kubernetes-broker');
  });

  it('builds the selector of one instance', () => {
    expect(instanceSelector('a33b4370-50ee-4b2c-9d1e-000000000001')).toBe(
      'service_id=a33b4370-50ee-4b2c-9d1e-000000000001,app.kubernetes.io/managed-by=kubernetes-broker',
    );
  });

  it.each([
    ['', true],
    ['a', true],
    ['a33b4370-50ee-4b2c-9d1e-000000000001', true],
    ['A_b.c-9', true],
    ['x'.repeat(63), true],
    ['x'.repeat(64), false],
    ['-a', false],
    ['a-', false],
    ['a b', false],
    ['a"b', false],
    ['a/b', false],
    ['é', false],
  ])('isValidLabelValue(%j) is %s', (value, valid) => {
    expect(isValidLabelValue(value)).toBe(valid);
  });

  it('refuses values that are not strings', () => {
    expect(isValidLabelValue(3)).toBe(false);
    expect(isValidLabelValue(undefined)).toBe(false);
  });
});
