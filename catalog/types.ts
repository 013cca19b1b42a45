// The catalog's data model: what the loader produces and the renderer consumes.
// Pure types; no I/O. The format itself is described in docs/catalog-format.md.
import type { PodSecurityLevel } from './pod-security.js';

/** A Kubernetes object as templates describe it: any kind, any apiVersion. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** The JSON Schemas of a plan, as OSB defines them. */
export interface PlanSchemas {
  service_instance?: {
    create?: { parameters?: Record<string, unknown> };
    update?: { parameters?: Record<string, unknown> };
  };
  service_binding?: {
    create?: { parameters?: Record<string, unknown>; response?: Record<string, unknown> };
  };
}

/** One Kubernetes template file (or one YAML document of a file) of a plan. */
export interface Template {
  /** Path relative to the catalog root, for messages: `redis32/micro/k8s/secret.json`. */
  file: string;
  /** Effective kind (the object's `kind`, or the one its file-name prefix implies). */
  kind: string;
  /**
   * Position among the plan's templates of the same kind, in creation order (file name, then
   * document order): the index of `$idx_and_short_serviceid`.
   */
  index: number;
  /** The object before rendering, legacy apiVersions already upgraded. Never mutated. */
  body: KubernetesObject;
}

/** Text templates of a plan's binding credentials. */
export interface CredentialsTemplates {
  /** Path relative to the catalog root. */
  file: string;
  /** The mapping text (not JSON until rendered: `$nodes` may stand unquoted). */
  mapping: string;
  /** `node_template.json` text, clustered plans only. */
  nodeTemplate?: string;
  /** `uri_cluster_template` text, clustered plans only. */
  uriClusterTemplate?: string;
  /**
   * `$env_<NAME>` and `$port_<N>` of these texts that no template of the plan can ever fill (no
   * container declares NAME, no Service forwards to N): typos of old catalogs that the old broker
   * rendered as empty. They render as '' and the loader warned about each; any other missing
   * value is an error at bind.
   */
  unfillable?: { env: string[]; ports: number[] };
}

/** When a plan's lifecycle hook Jobs run (the old broker's names). See catalog/hooks.ts. */
export type HookEvent = 'onCreateInstance' | 'onDeleteInstance' | 'onBindInstance' | 'onUnbindInstance';

export interface Plan {
  id: string;
  name: string;
  description: string;
  free: boolean;
  /** Effective: the plan's own `bindable`, else the service's. */
  bindable: boolean;
  /** Effective: the plan's own `plan_updateable`, else the service's (default false). */
  planUpdateable: boolean;
  bindingRotatable: boolean;
  /** Pod Security level of a namespace made for an instance (`pod_security`, default restricted). */
  podSecurity: PodSecurityLevel;
  /** Seconds, from `maximum_polling_duration`, when the plan sets it. */
  maximumPollingDuration?: number;
  maintenanceInfo?: { version: string; description?: string };
  schemas?: PlanSchemas;
  /** Creation order (see docs/catalog-format.md). */
  templates: Template[];
  credentials?: CredentialsTemplates;
  /**
   * Lifecycle hooks: the Jobs of `<plan>/hooks/<event>/`, in run order (file name, then document
   * order; `index` counts within the event). Only events with at least one Job are present.
   */
  hooks?: Partial<Record<HookEvent, Template[]>>;
  /** Plan folder relative to the catalog root. */
  dir: string;
  /** The plan exactly as `GET /v2/catalog` serves it. */
  osb: Record<string, unknown>;
}

export interface ServiceOffering {
  id: string;
  name: string;
  description: string;
  bindable: boolean;
  planUpdateable: boolean;
  instancesRetrievable: boolean;
  bindingsRetrievable: boolean;
  allowContextUpdates: boolean;
  plans: Plan[];
  /** Service folder relative to the catalog root. */
  dir: string;
  /** The service offering exactly as `GET /v2/catalog` serves it, `plans` included. */
  osb: Record<string, unknown>;
}

export interface Catalog {
  /** Absolute path of the catalog directory. */
  root: string;
  services: ServiceOffering[];
  findService(serviceId: string): ServiceOffering | undefined;
  findPlan(serviceId: string, planId: string): { service: ServiceOffering; plan: Plan } | undefined;
  /** The body of `GET /v2/catalog`, built once at load (a new object whenever the catalog changes). */
  osbCatalog: { services: Record<string, unknown>[] };
  /**
   * Catalogs that change at runtime (offerings added through the admin API): read the current
   * state from where it is stored now, e.g. before giving up on an id not seen yet.
   */
  refresh?(): Promise<void>;
}

/** One problem found while loading a catalog. */
export interface CatalogProblem {
  /** Path relative to the catalog root. */
  file: string;
  /** JSON path of the field (`plans[0].schemas.service_instance.create.parameters`), when known. */
  field?: string;
  /** 1-based line, for syntax errors. */
  line?: number;
  message: string;
}

export type RandomName = `random${0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9}`;
export type Randoms = Record<RandomName, string>;

/** Everything that fills an instance's templates. */
/** How an instance's object names are made from its id (catalog/naming.ts). */
export type NameScheme = 'legacy' | 'hashed';

export interface InstanceValues {
  instanceId: string;
  /** Organization and space GUID ('' when the platform did not send them). */
  org: string;
  space: string;
  /** Namespace the instance's objects go to. */
  namespace: string;
  /** Configured storage class; '' for the cluster's default. */
  storageClass: string;
  /** Plan parameters after validation, schema defaults applied. */
  parameters: Record<string, unknown>;
  /** Generated once per instance and kept across updates. */
  randoms: Randoms;
  /** `$binding_id`: set only for bind and unbind hooks and credentials mappings. */
  bindingId?: string;
  /** How `$short_serviceid` is made (catalog/naming.ts); absent: `legacy`, as for instances recorded before schemes. */
  nameScheme?: NameScheme;
}

/** A port of a Service of a running instance, as credentials see it. */
export interface ServicePortFacts {
  name?: string;
  /** The port clients use: the Service port, or the node port with external addresses. */
  port: number;
  /** The container port it forwards to, named targetPorts already resolved to numbers. */
  targetPort: number;
}

export interface ServiceFacts {
  /** The Service's name. */
  name: string;
  /** Host name clients use (cluster DNS name or external address). */
  hostname: string;
  ports: ServicePortFacts[];
}

/** What a binding's credentials are made of, read from the running instance. */
export interface InstanceFacts {
  /** Env of all containers of all workloads, secretKeyRef/configMapKeyRef resolved. */
  env: Record<string, string>;
  /** Every Service of the instance, in name order. */
  services: ServiceFacts[];
  /**
   * `$hook_<KEY>`: the data of the Secret the plan's bind hook wrote for this binding (labelled
   * with the binding and instance ids), decoded. Absent when the plan has no bind hook or the
   * Secret is missing.
   */
  hookSecret?: Record<string, string>;
}
