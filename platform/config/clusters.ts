// Several target clusters: which clusters the broker deploys instances to, which requests go
// where (routing rules), and how many instances an organization may have (quotas). Read from
// CLUSTERS_FILE (YAML or JSON), validated at start-up; without it the broker has the one cluster
// of KUBECONFIG/KUBE_CONTEXT, named `default`, as before. docs/clusters.md has the format.
//
// The routing decision is made once, at provision, and recorded in the instance record: every
// later operation uses the recorded cluster, whatever the rules say by then. A record without a
// cluster (written before clusters existed) means the default cluster. Records themselves stay in
// the default cluster, the broker's home.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { ConfigError } from './config.js';

/** The name of the cluster of KUBECONFIG/KUBE_CONTEXT, and the default cluster unless the file names another. */
export const DEFAULT_CLUSTER = 'default';

const clusterName = z
  .string({ error: 'must be a cluster name' })
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a cluster name (lowercase letters, digits and -, at most 63)');
const text = z.string({ error: 'must be a string' }).min(1, 'must not be empty');

const clusterSchema = z
  .strictObject({
    name: clusterName,
    /** A kubeconfig file; relative to the clusters file. */
    kubeconfig: text.optional(),
    /** A context of that kubeconfig; its current context when unset. */
    context: text.optional(),
    /** The service account of the pod the broker runs in. */
    inCluster: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.inCluster && (c.kubeconfig || c.context))
      ctx.addIssue({ code: 'custom', message: 'inCluster: true takes no kubeconfig or context', path: ['inCluster'] });
    if (!c.inCluster && !c.kubeconfig) ctx.addIssue({ code: 'custom', message: 'needs a kubeconfig file, or inCluster: true', path: ['kubeconfig'] });
  });

const MATCH_KEYS = ['organization', 'space', 'clusterid', 'namespace'] as const;

const ruleSchema = z
  .strictObject({
    /** Organization GUID (`organization_guid`, or the context's `organization_guid`). */
    organization: text.optional(),
    /** Space GUID. */
    space: text.optional(),
    /** The OSB Kubernetes context's `clusterid`. */
    clusterid: text.optional(),
    /** The OSB Kubernetes context's `namespace`. */
    namespace: text.optional(),
    cluster: clusterName,
  })
  .refine((r) => MATCH_KEYS.some((k) => r[k] !== undefined), {
    message: `a rule needs at least one of ${MATCH_KEYS.join(', ')} (what no rule matches goes to the default cluster)`,
  });

const quotaSchema = z.strictObject({
  /** An organization GUID, or `*`: every organization, each on its own. */
  organization: text,
  maxInstances: z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative'),
  /** Count only the organization's instances on this cluster (and only provisions routed there). */
  cluster: clusterName.optional(),
});

const fileSchema = z.strictObject({
  default: clusterName.optional(),
  clusters: z.array(clusterSchema, { error: 'must be a list' }).default([]),
  routing: z.array(ruleSchema, { error: 'must be a list' }).default([]),
  quotas: z.array(quotaSchema, { error: 'must be a list' }).default([]),
});

export type ClusterTarget =
  | { name: string; source: 'env' }
  | { name: string; source: 'kubeconfig'; kubeconfig: string; context?: string | undefined }
  | { name: string; source: 'in-cluster' };
export type RoutingRule = z.output<typeof ruleSchema>;
export type Quota = z.output<typeof quotaSchema>;

export interface ClustersConfig {
  /** Where what no rule matches goes, and where the broker's records are. */
  defaultCluster: string;
  clusters: ClusterTarget[];
  routing: RoutingRule[];
  quotas: Quota[];
}

/** One cluster, from KUBECONFIG/KUBE_CONTEXT: the broker without CLUSTERS_FILE. */
export const SINGLE_CLUSTER: ClustersConfig = {
  defaultCluster: DEFAULT_CLUSTER,
  clusters: [{ name: DEFAULT_CLUSTER, source: 'env' }],
  routing: [],
  quotas: [],
};

/** Reads CLUSTERS_FILE; throws ConfigError naming the file and every bad field. */
export function loadClusters(config: { CLUSTERS_FILE?: string | undefined }): ClustersConfig {
  const file = config.CLUSTERS_FILE;
  if (!file) return SINGLE_CLUSTER;
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  CLUSTERS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseClusters(source, file);
}

/** Parses and checks the text of a clusters file (YAML or JSON). */
export function parseClusters(source: string, file: string): ClustersConfig {
  const fail = (lines: string[]) => new ConfigError(`invalid clusters file ${file}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  let raw: unknown;
  try {
    raw = YAML.parse(source, { prettyErrors: true });
  } catch (err) {
    throw fail([`not YAML or JSON: ${(err as Error).message.split('\n')[0]}`]);
  }
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw fail(parsed.error.issues.map((i) => `${i.path.length ? `${fieldPath(i.path)}: ` : ''}${i.message}`));
  }
  const f = parsed.data;
  const problems: string[] = [];
  const seen = new Set<string>();
  f.clusters.forEach((c, i) => {
    if (seen.has(c.name)) problems.push(`clusters[${i}].name: cluster ${c.name} is listed twice`);
    seen.add(c.name);
  });
  const clusters: ClusterTarget[] = f.clusters.map((c) =>
    c.inCluster
      ? { name: c.name, source: 'in-cluster' }
      : { name: c.name, source: 'kubeconfig', kubeconfig: path.resolve(path.dirname(file), c.kubeconfig!), context: c.context },
  );
  // The cluster of KUBECONFIG/KUBE_CONTEXT stays, as `default`, unless the file defines its own
  // or names another cluster the default (then nothing would use it, and the worker would still
  // have to reach it).
  if (!seen.has(DEFAULT_CLUSTER) && (f.default ?? DEFAULT_CLUSTER) === DEFAULT_CLUSTER) clusters.unshift({ name: DEFAULT_CLUSTER, source: 'env' });
  const known = new Set(clusters.map((c) => c.name));
  const unknown = (name: string) => `no cluster is named ${name} (clusters: ${[...known].join(', ')})`;
  const defaultCluster = f.default ?? DEFAULT_CLUSTER;
  if (!known.has(defaultCluster)) problems.push(`default: ${unknown(defaultCluster)}`);
  f.routing.forEach((r, i) => {
    if (!known.has(r.cluster)) problems.push(`routing[${i}].cluster: ${unknown(r.cluster)}`);
  });
  f.quotas.forEach((q, i) => {
    if (q.cluster !== undefined && !known.has(q.cluster)) problems.push(`quotas[${i}].cluster: ${unknown(q.cluster)}`);
  });
  if (problems.length) throw fail(problems);
  return { defaultCluster, clusters, routing: f.routing, quotas: f.quotas };
}

const fieldPath = (p: PropertyKey[]) => p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('');

/** What routing looks at in a provision request. */
export interface RoutingInput {
  org: string;
  space: string;
  context: Record<string, unknown>;
}

/** The cluster a new instance goes to: the first rule whose every condition matches, else the default. */
export function routeCluster(config: ClustersConfig, req: RoutingInput): string {
  const values: Record<(typeof MATCH_KEYS)[number], unknown> = {
    organization: req.org,
    space: req.space,
    clusterid: req.context['clusterid'],
    namespace: req.context['namespace'],
  };
  const rule = config.routing.find((r) => MATCH_KEYS.every((k) => r[k] === undefined || r[k] === values[k]));
  return rule?.cluster ?? config.defaultCluster;
}

/** The quotas a provision for `org` routed to `cluster` must respect. */
export function quotasFor(config: ClustersConfig, org: string, cluster: string): Quota[] {
  return config.quotas.filter((q) => (q.organization === '*' || q.organization === org) && (q.cluster === undefined || q.cluster === cluster));
}

/**
 * The first quota a new instance would exceed, with the count it found; undefined when it fits.
 * `instances`: the org and cluster of every instance the broker has (from its records).
 */
export function exceededQuota(
  config: ClustersConfig,
  req: { org: string; cluster: string },
  instances: { org: string; cluster?: string | undefined }[],
): { quota: Quota; count: number } | undefined {
  for (const quota of quotasFor(config, req.org, req.cluster)) {
    const count = instances.filter((r) => r.org === req.org && (quota.cluster === undefined || (r.cluster ?? config.defaultCluster) === quota.cluster)).length;
    if (count >= quota.maxInstances) return { quota, count };
  }
  return undefined;
}
