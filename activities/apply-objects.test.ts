import { describe, expect, it } from 'vitest';
import { hookEventsOf } from './apply-objects.js';
import type { Plan, Template } from '../catalog/types.js';

const job = {} as Template;
const plan = (hooks?: Plan['hooks']) => ({ hooks }) as unknown as Plan;

describe('hookEventsOf', () => {
  it('names the events for which the plan has at least one hook Job', () => {
    expect(hookEventsOf(plan({ onCreateInstance: [job], onDeleteInstance: [job, job], onBindInstance: [] }))).toEqual(['onCreateInstance', 'onDeleteInstance']);
  });

  it('is empty for a plan without hooks: provision and deprovision then skip their hook step', () => {
    expect(hookEventsOf(plan())).toEqual([]);
    expect(hookEventsOf(plan({}))).toEqual([]);
  });
});
