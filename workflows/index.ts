// The worker's workflowsPath: every workflow of the broker.
export { provisionInstance } from './provision-instance.js';
export { updateInstance } from './update-instance.js';
export { deprovisionInstance } from './deprovision-instance.js';
export { bindInstance } from './bind-instance.js';
export { unbindInstance } from './unbind-instance.js';
export { upgradePlan } from './upgrade-plan.js';
