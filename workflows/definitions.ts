// Messages of the broker's workflows, importable by the API without pulling in activities.
import { defineSignal } from '@temporalio/workflow';

/** DELETE during provisioning: stop provisioning, then deprovision under this operation token. */
export const deprovisionRequested = defineSignal<[{ operation: string; timeoutSeconds: number }]>('deprovisionRequested');
