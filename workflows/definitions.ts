// Messages of the broker's workflows, importable by the API without pulling in activities.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { UpgradeProgress } from './types.js';

/** DELETE during provisioning: stop provisioning, then deprovision under this operation token. */
export const deprovisionRequested = defineSignal<[{ operation: string; timeoutSeconds: number }]>('deprovisionRequested');

/** An upgrade's outcomes so far: the operator's CLI polls it for its progress lines. */
export const upgradeProgress = defineQuery<UpgradeProgress>('upgradeProgress');
