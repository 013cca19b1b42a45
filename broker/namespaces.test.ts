import { describe, expect, it } from 'vitest';
import { BrokerError } from './errors.js';
import { instanceNamespace } from './namespaces.js';

const FIXED = 'kubernetes-broker-instances';

describe('instanceNamespace', () => {
  describe('fixed', () => {
    it('always the configured namespace, which the instance does not own', () => {
      expect(instanceNamespace('fixed', FIXED, 'inst-1', {})).toEqual({ namespace: FIXED, ownsNamespace: false });
      expect(instanceNamespace('fixed', FIXED, 'inst-1', { namespace: 'team-a' })).toEqual({ namespace: FIXED, ownsNamespace: false });
    });
  });

  describe('per-instance', () => {
    it('a readable namespace of its own from the instance id, with a hash of the exact id', () => {
      const { namespace, ownsNamespace } = instanceNamespace('per-instance', FIXED, '0f2b4a1e-6c3d-4e5f-8a9b-0c1d2e3f4a5b', {});
      expect(ownsNamespace).toBe(true);
      expect(namespace).toMatch(/^si-0f2b4a1e-6c3d-4e5f-8a9b-0c1d2e3f4a5b-[0-9a-f]{10}$/);
      expect(namespace.length).toBeLessThanOrEqual(63);
    });

    it('lowercases and turns other characters into -, and ids that differ only in case or punctuation get different namespaces', () => {
      expect(instanceNamespace('per-instance', FIXED, 'My_Instance.1', {}).namespace).toMatch(/^si-my-instance-1-[0-9a-f]{10}$/);
      expect(instanceNamespace('per-instance', FIXED, 'abc_', {}).namespace).toMatch(/^si-abc-[0-9a-f]{10}$/);
      const names = ['ABC', 'abc', 'a.b', 'a_b', 'A.b'].map((id) => instanceNamespace('per-instance', FIXED, id, {}).namespace);
      expect(new Set(names).size).toBe(names.length);
    });

    it('stable for the same id, different for another', () => {
      const id = 'a'.repeat(63);
      const { namespace } = instanceNamespace('per-instance', FIXED, id, {});
      expect(instanceNamespace('per-instance', FIXED, id, {}).namespace).toBe(namespace);
      expect(instanceNamespace('per-instance', FIXED, 'b'.repeat(63), {}).namespace).not.toBe(namespace);
    });

    it('every namespace it makes is a valid DNS label', () => {
      for (const id of ['x', 'X', 'a.b', '1-2_3', 'a'.repeat(60), 'a'.repeat(61), 'A'.repeat(63), 'x'.repeat(59) + '____']) {
        const { namespace } = instanceNamespace('per-instance', FIXED, id, {});
        expect([id, namespace.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)]).toEqual([id, true]);
      }
    });
  });

  describe('context', () => {
    it('the namespace of the OSB Kubernetes context, not owned by the instance', () => {
      expect(instanceNamespace('context', FIXED, 'inst-1', { platform: 'kubernetes', namespace: 'team-a' })).toEqual({
        namespace: 'team-a',
        ownsNamespace: false,
      });
    });

    it('the configured namespace when the context names none (Cloud Foundry)', () => {
      expect(instanceNamespace('context', FIXED, 'inst-1', { platform: 'cloudfoundry' })).toEqual({ namespace: FIXED, ownsNamespace: false });
    });

    it.each([
      ['uppercase', 'Team-A'],
      ['a number', 42],
      ['empty', ''],
      ['too long', 'a'.repeat(64)],
      ['with a dot', 'team.a'],
      ['null', null],
    ])('400 for a namespace that is %s', (_name, namespace) => {
      let err: unknown;
      try {
        instanceNamespace('context', FIXED, 'inst-1', { namespace });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BrokerError);
      expect((err as BrokerError).status).toBe(400);
      expect((err as BrokerError).description).toContain('context.namespace');
    });
  });
});
