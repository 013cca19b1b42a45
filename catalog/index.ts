// The catalog module's public API: load a catalog directory, render a plan's Kubernetes objects,
// its lifecycle hook Jobs and a binding's credentials, validate request parameters.
export type * from './types.js';
export { loadCatalog, type LoadResult } from './load.js';
export { CatalogLoadError, RenderError, formatProblem } from './errors.js';
export { renderPlan } from './render.js';
export { renderCredentials } from './credentials.js';
export { renderHookJobs, HOOK_EVENTS, BINDING_HOOK_EVENTS, isHookEvent } from './hooks.js';
export { validateParameters, type ParameterAction, type ParametersResult } from './parameters.js';
export { generateRandoms } from './randoms.js';
export { shortServiceId, idxAndShortServiceId, CURRENT_NAME_SCHEME } from './naming.js';
export { upgradeLegacy, type LegacyUpgrade, type FieldFixed } from './legacy.js';
export { INSTANCE_ID_LABEL, MANAGED_BY_LABEL, MANAGED_BY, HOOK_LABEL, BINDING_ID_LABEL, instanceSelector, isValidLabelValue } from './labels.js';
export {
  WORKLOAD_KINDS,
  CLUSTER_SCOPED_KINDS,
  POD_TEMPLATE_KINDS,
  podTemplatePath,
  creationRank,
  isWorkloadKind,
  isClusterScopedKind,
  kindFromFileName,
} from './kinds.js';
export { SAMPLE_INSTANCE_ID, sampleValues } from './check.js';
