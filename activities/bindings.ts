// Binding activities: credentials are rendered from the running instance and stored in the
// binding's Secret inside the activity, so they never travel through workflow history.
import { ApplicationFailure } from '@temporalio/activity';
import { renderCredentials } from '../catalog/credentials.js';
import { RenderError } from '../catalog/errors.js';
import type { BindInput } from '../workflows/types.js';
import { instanceValues, type ActivityDeps } from './deps.js';
import { clusterClient, NON_RETRYABLE, step } from './failures.js';
import { readInstanceFacts } from './instance-facts.js';
import { readBindingHookSecret } from './lifecycle-hooks.js';
import { findPlanNow } from './plans.js';
import { createVerifier } from './verify.js';

export function createBindingActivities(deps: ActivityDeps) {
  const { clusters, records, catalog, settings } = deps;
  const verify = createVerifier(deps);
  return {
    async createBinding(input: BindInput): Promise<void> {
      const stored = await step('read the instance record', () => records.getInstance(input.instanceId));
      if (await verify.bind(input, stored?.record)) return; // recorded already, for this instance: a retry
      if (!stored) throw ApplicationFailure.nonRetryable(`instance ${input.instanceId} does not exist`, NON_RETRYABLE.missingInstance);
      const { record } = stored;
      const found = await findPlanNow(catalog, record.serviceId, record.planId);
      if (!found) {
        throw ApplicationFailure.nonRetryable(`plan ${record.planId} of instance ${input.instanceId} is not in the catalog`, NON_RETRYABLE.invalidInput);
      }
      // The instance's own cluster, as recorded at provision.
      const kube = clusterClient(clusters, record.cluster, record.instanceId);
      const facts = await step(`read the environment and Services of instance ${input.instanceId}`, () =>
        readInstanceFacts(kube, record, found.plan, settings),
      );
      // `$hook_<KEY>`: what the plan's bind hook (run just before) wrote for this binding.
      if (found.plan.hooks?.onBindInstance) {
        const hookSecret = await step(`read the Secret the bind hook wrote for binding ${input.bindingId}`, () =>
          readBindingHookSecret(kube, record.namespace, record.instanceId, input.bindingId),
        );
        if (hookSecret) facts.hookSecret = hookSecret;
      }
      let credentials: Record<string, unknown>;
      try {
        credentials = renderCredentials(found.service, found.plan, instanceValues(stored, settings, { bindingId: input.bindingId }), facts);
      } catch (err) {
        if (err instanceof RenderError) throw ApplicationFailure.nonRetryable(err.message, NON_RETRYABLE.invalidInput);
        throw err;
      }
      await step('store the binding', () =>
        records.createBinding(
          {
            bindingId: input.bindingId,
            instanceId: input.instanceId,
            serviceId: input.serviceId,
            planId: input.planId,
            parameters: input.parameters,
            ...(input.bindResource ? { bindResource: input.bindResource } : {}),
            context: input.context,
            endpoints: facts.services.map((s) => ({ host: s.hostname, ports: s.ports.map((p) => String(p.port)) })),
            createdAt: new Date().toISOString(),
          },
          credentials,
        ),
      );
    },

    async deleteBinding(input: { bindingId: string }): Promise<void> {
      // The unbind's hook step checked that the binding is of the instance the unbind names.
      verify.workflow(input, ['unbind']);
      await step('delete the binding', () => records.deleteBinding(input.bindingId));
    },

    /** Deprovision removes the bindings the platform did not unbind first. */
    async deleteInstanceBindings(input: { instanceId: string }): Promise<number> {
      verify.workflow(input, ['deprovision']);
      return step('delete the bindings of the instance', async () => {
        const bindings = await records.listBindings(input.instanceId);
        await Promise.all(bindings.map((b) => records.deleteBinding(b.bindingId)));
        return bindings.length;
      });
    },
  };
}
