// Packaging: the kustomize manifests under deploy/, docker-compose.yml and the Dockerfile,
// checked against the real local cluster, the broker's configuration schema and its CLI.
// The RBAC is exercised for real: the worker and the API run with tokens of ServiceAccounts
// that have exactly the manifests' rights, through full lifecycles, and the same tokens are
// refused what the broker must not do.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { ensureSearchAttributes } from '../../platform/temporal/register-search-attributes.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { sweptKinds } from '../../platform/kube/owned-kinds.js';
import { INSTANCE_ID_LABEL, instanceSelector, MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import { INSTANCE_NAMESPACE_LABEL, isolationPolicyName } from '../../platform/kube/instance-network-policy.js';
import { loadCatalog } from '../../catalog/load.js';
import type { KubernetesObject } from '../../catalog/types.js';
import { startServer } from '../../cli/serve.js';
import { startWorker } from '../../cli/worker.js';
import { CONFIG_KEYS, ConfigError, loadConfig, SHIPPED_CATALOG_DIR } from '../../platform/config/config.js';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { KubeApi } from '../../platform/kube/api.js';
import { loadKubeConfig } from '../../platform/kube/connect.js';
import { KubeApiError } from '../../platform/kube/errors.js';
import { RECORD_INSTANCE_LABEL } from '../../platform/kube/records.js';
import { createLogger } from '../../platform/observability/logger.js';
import { Osb } from './helpers/broker.js';
import { eventually, kubeApi, stackEnv, suffix } from './helpers/stack.js';
import { MANAGED_KINDS } from './helpers/faults.js';
import { ingressAllowed, type NetworkPolicy, type PodAt } from '../network-policy-model.js';
import { playBindJobs } from './helpers/watch.js';
import { INSTALLATION_LABEL } from '../../platform/kube/installation.js';

type Obj = KubernetesObject & Record<string, any>;

const BASE = path.join(PROJECT_ROOT, 'deploy/base');
const OVERLAY = path.join(PROJECT_ROOT, 'deploy/overlays/per-instance-namespaces');
const COMPOSE_FILE = path.join(PROJECT_ROOT, 'docker-compose.yml');
/** The namespaces the manifests name; tests rename them to their own. */
const BROKER_NS = 'kubernetes-broker';
const INSTANCE_NS = 'kubernetes-broker-instances';
const FIELD_MANAGER = 'kubernetes-broker-packaging-test';
const MERGE_PATCH = 'application/merge-patch+json';
/** Cluster-scoped kinds of the manifests: tests suffix their names, so that runs do not share them. */
const CLUSTER_SCOPED_RENAMED = ['ClusterRole', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'];

const env = () => stackEnv();
const withStackPath = () => ({ ...process.env, PATH: `${env()['KB_STACK_BIN']}:${process.env['PATH']}` });

function kustomize(dir: string): Obj[] {
  const out = spawnSync('kubectl', ['kustomize', dir], { env: withStackPath(), encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${out.stderr}`);
  return parseAllDocuments(out.stdout)
    .map((d) => d.toJSON() as Obj)
    .filter(Boolean);
}

/** The commands `kubernetes-broker help` lists. */
function cliCommands(): Set<string> {
  const out = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/kubernetes-broker.js'), 'help'], { encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  return new Set([...out.stdout.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!));
}

/** Server-side apply, dry run, strict field validation: the API server's full verdict, nothing stored. */
async function dryRunApply(kube: KubeApi, obj: Obj): Promise<void> {
  const p = await kube.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
  await kube.request('PATCH', p, {
    body: obj,
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: FIELD_MANAGER, force: true, dryRun: 'All', fieldValidation: 'Strict' },
  });
}

/**
 * The manifests with the test's own names: the two namespaces renamed everywhere the
 * kustomization says they appear, cluster-scoped RBAC objects suffixed (and the references to
 * them). Fails when a namespace name is left somewhere else: the rename list would be wrong.
 */
function parametrize(objects: Obj[], id: string, names: Record<string, string>): Obj[] {
  const rename = (n: string) => names[n] ?? n;
  const cluster = (n: string) => `${n}-${id}`;
  const result = objects.map((o) => {
    const c = structuredClone(o);
    if (c.kind === 'Namespace') c.metadata.name = rename(c.metadata.name);
    if (c.metadata.namespace) c.metadata.namespace = rename(c.metadata.namespace);
    if (CLUSTER_SCOPED_RENAMED.includes(c.kind)) c.metadata.name = cluster(c.metadata.name);
    if (c.roleRef?.kind === 'ClusterRole') c.roleRef.name = cluster(c.roleRef.name);
    if (c.kind === 'ValidatingAdmissionPolicyBinding') c.spec.policyName = cluster(c.spec.policyName);
    // The worker's identity in an admission policy's expressions names the broker's namespace.
    for (const m of c.kind === 'ValidatingAdmissionPolicy' ? c.spec.matchConditions : [])
      for (const [from, to] of Object.entries(names)) m.expression = m.expression.replaceAll(`system:serviceaccount:${from}:`, `system:serviceaccount:${to}:`);
    for (const s of c.subjects ?? []) if (s.namespace) s.namespace = rename(s.namespace);
    for (const r of c.rules ?? []) if (r.resourceNames) r.resourceNames = r.resourceNames.map(rename);
    if (c.kind === 'ConfigMap') for (const k of ['BROKER_NAMESPACE', 'INSTANCE_NAMESPACE']) if (c.data?.[k]) c.data[k] = rename(c.data[k]);
    return c;
  });
  const left: string[] = [];
  // Where a namespace name can be (`kubernetes-broker` is also the app's name and label value).
  const namespaceField = (key: string) => key === 'namespace' || key === 'resourceNames' || key.endsWith('NAMESPACE');
  const walk = (v: unknown, where: string, key: string): void => {
    if (typeof v === 'string' && v in names && (namespaceField(key) || v === INSTANCE_NS)) left.push(`${where} = ${v}`);
    else if (typeof v === 'string' && Object.keys(names).some((n) => v.includes(`serviceaccount:${n}:`))) left.push(`${where} = ${v}`);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`, k);
  };
  for (const o of result) walk(o, `${o.kind}/${o.metadata.name}`, o.kind === 'Namespace' ? 'namespace' : '');
  expect(left, 'namespace names outside the places kustomization.yaml lists').toEqual([]);
  return result;
}

const find = (objects: Obj[], kind: string, name?: string) => {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''} in the manifests`);
  return o;
};

/** Every variable a Deployment's container gets: env, and the keys of the ConfigMaps and Secrets of envFrom. */
function containerEnv(objects: Obj[], deployment: Obj): Record<string, string> {
  const result: Record<string, string> = {};
  for (const c of deployment.spec.template.spec.containers) {
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef) {
        Object.assign(result, find(objects, 'ConfigMap', from.configMapRef.name).data);
      } else {
        const secret = find(objects, 'Secret', from.secretRef.name);
        const decoded = Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')]);
        Object.assign(result, secret.stringData ?? {}, Object.fromEntries(decoded));
      }
    }
    for (const e of c.env ?? []) result[e.name] = e.value ?? '';
  }
  return result;
}

// ---- the compose validator (scripts/install-compose-validator.sh) ---------------------------

let composeValidate = '';

function validateCompose(file: string, extraEnv: Record<string, string>) {
  // A clean environment: the file must carry everything but what docs/deploying.md says to set.
  return spawnSync(composeValidate, [file], {
    encoding: 'utf8',
    cwd: path.dirname(file),
    env: { PATH: process.env['PATH'] ?? '', HOME: os.tmpdir(), ...extraEnv },
  });
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-packaging-'));
const kubeconfigPlaceholder = path.join(scratch, 'kubeconfig');
fs.writeFileSync(kubeconfigPlaceholder, 'apiVersion: v1\nkind: Config\n');
const composeEnv = {
  AUTH_PASS: 'compose-password',
  ADMIN_PASS: 'compose-admin-password',
  CODEC_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  KUBECONFIG_FILE: kubeconfigPlaceholder,
};

/** Real values for the placeholders of secret.yaml. */
const realSecrets: Record<string, string> = {
  AUTH_USER: 'cf',
  AUTH_PASS: 'a-platform-secret',
  ADMIN_USER: 'ops',
  ADMIN_PASS: 'an-operator-secret',
  CODEC_KEYS: composeEnv.CODEC_KEYS,
};

/** The file with its commented examples of CODEC_AUTH=oidc (the API's and the Temporal UI's settings) turned on. */
const uncommentOidc = (text: string) => text.replace(/^(\s*)# ((?:CODEC_|TEMPORAL_AUTH_|TEMPORAL_CODEC_PASS_)[A-Z_]*: )/gm, '$1$2');

const kube = kubeApi();
const clients = { a: kube, b: kubeApi('b') };

beforeAll(() => {
  // Cached after the first build (seconds on a cold machine); .ci/run installs it up front.
  const install = spawnSync('bash', [path.join(PROJECT_ROOT, 'scripts/install-compose-validator.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (install.status !== 0) throw new Error('scripts/install-compose-validator.sh failed (see its output above)');
  composeValidate = install.stdout.trim().split('\n').at(-1)!;
}, 600_000);

afterAll(() => {
  kube.close();
  clients.b.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('kustomize manifests', () => {
  it('render, and the API server accepts every object of the base and the per-instance overlay (server-side dry run)', async () => {
    for (const dir of [BASE, OVERLAY]) {
      const id = suffix();
      const objects = parametrize(kustomize(dir), id, { [BROKER_NS]: `kb-pkg-dry-${id}`, [INSTANCE_NS]: `kb-pkg-dry-inst-${id}` });
      expect(objects.length).toBeGreaterThan(10);
      // Dry runs of namespaced objects need their namespace to exist.
      const namespaces = objects.filter((o) => o.kind === 'Namespace');
      for (const ns of namespaces) await kube.apply(ns, { fieldManager: FIELD_MANAGER });
      try {
        const rejected: string[] = [];
        for (const o of objects) {
          await dryRunApply(kube, o).catch((err: Error) => rejected.push(`${o.kind}/${o.metadata.name}: ${err.message}`));
        }
        expect(rejected, path.relative(PROJECT_ROOT, dir)).toEqual([]);
      } finally {
        for (const ns of namespaces) await kube.delete('v1', 'Namespace', undefined, ns.metadata.name);
      }
    }
  });

  it('the API runs 2 replicas with probes and a locked-down container; the worker too, without probes', () => {
    const objects = kustomize(BASE);
    const api = find(objects, 'Deployment', 'kubernetes-broker-api');
    const worker = find(objects, 'Deployment', 'kubernetes-broker-worker');
    expect(api.spec.replicas).toBe(2);
    const apiContainer = api.spec.template.spec.containers[0];
    expect(apiContainer.readinessProbe.httpGet.path).toBe('/readyz');
    expect(apiContainer.livenessProbe.httpGet.path).toBe('/healthz');
    for (const d of [api, worker]) {
      const spec = d.spec.template.spec;
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.containers[0].securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(spec.containers[0].resources.requests).toBeDefined();
      expect(spec.containers[0].resources.limits.memory).toBeDefined();
    }
    const service = find(objects, 'Service', 'kubernetes-broker');
    expect(service.spec.selector).toEqual(api.spec.selector.matchLabels);
  });

  it('NetworkPolicies: the API only from the namespaces the operator labels, the worker from nowhere, tenant pods never (both overlays)', () => {
    for (const dir of [BASE, OVERLAY]) {
      const objects = kustomize(dir);
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as NetworkPolicy[];
      expect(policies.length, dir).toBe(2);
      const podOf = (name: string): PodAt => ({ namespace: BROKER_NS, labels: find(objects, 'Deployment', name).spec.template.metadata.labels });
      const api = podOf('kubernetes-broker-api');
      const worker = podOf('kubernetes-broker-worker');
      // The policy's named ports are the API container's.
      const ports = find(objects, 'Deployment', 'kubernetes-broker-api').spec.template.spec.containers[0].ports.map((p: any) => p.name);
      expect(ports).toEqual(expect.arrayContaining(['http', 'metrics']));
      const platform: PodAt = {
        namespace: 'cf-system',
        namespaceLabels: { 'kubernetes-broker.io/broker-client': 'true' },
        labels: { app: 'cloud-controller' },
      };
      const prometheus: PodAt = { namespace: 'monitoring', namespaceLabels: { 'kubernetes-broker.io/metrics': 'true' }, labels: { app: 'prometheus' } };
      const tenant: PodAt = {
        namespace: INSTANCE_NS,
        namespaceLabels: { [INSTANCE_NAMESPACE_LABEL]: 'true' },
        labels: { [INSTANCE_ID_LABEL]: 'i', [MANAGED_BY_LABEL]: MANAGED_BY },
      };
      const app: PodAt = { namespace: 'apps', labels: { app: 'web' } };
      const brokerPeer: PodAt = { ...api, labels: { other: 'pod' } };
      expect(ingressAllowed(policies, platform, api, 'http')).toBe(true);
      expect(ingressAllowed(policies, platform, api, 'metrics')).toBe(false);
      expect(ingressAllowed(policies, prometheus, api, 'metrics')).toBe(true);
      expect(ingressAllowed(policies, prometheus, api, 'http')).toBe(false);
      for (const from of [tenant, app, brokerPeer]) {
        expect(ingressAllowed(policies, from, api, 'http')).toBe(false);
        expect(ingressAllowed(policies, from, worker, 9464)).toBe(false);
      }
      expect(ingressAllowed(policies, platform, worker, 'http')).toBe(false);
    }
  });

  it('the worker may apply every kind of the shipped catalog and sweep every kind deprovision sweeps', async () => {
    const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
    const role = find(kustomize(BASE), 'ClusterRole', 'kubernetes-broker-worker-instances');
    const verbsOf = async (apiVersion: string, kind: string) => {
      const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
      const { name } = await kube.resource(apiVersion, kind);
      return new Set(role.rules.filter((r: any) => r.apiGroups.includes(group) && r.resources.includes(name)).flatMap((r: any) => r.verbs));
    };
    const missing: string[] = [];
    for (const k of sweptKinds(catalog, false)) {
      const verbs = await verbsOf(k.apiVersion, k.kind);
      for (const v of ['list', 'watch', 'delete', 'deletecollection']) if (!verbs.has(v)) missing.push(`${k.kind}: ${v}`);
    }
    for (const t of catalog.services.flatMap((s) => s.plans.flatMap((p) => p.templates))) {
      const verbs = await verbsOf(t.body.apiVersion, t.body.kind);
      for (const v of ['get', 'create', 'patch']) if (!verbs.has(v)) missing.push(`${t.body.kind}: ${v}`);
    }
    // Lifecycle hooks (any catalog's hooks/<event>/ Jobs): applied, watched, deleted when done.
    const jobVerbs = await verbsOf('batch/v1', 'Job');
    for (const v of ['get', 'create', 'patch', 'watch', 'delete', 'deletecollection']) if (!jobVerbs.has(v)) missing.push(`Job (lifecycle hooks): ${v}`);
    // The API's admin routes list every swept kind and delete orphans of any of them.
    const apiRole = find(kustomize(BASE), 'ClusterRole', 'kubernetes-broker-api-instances');
    for (const k of sweptKinds(catalog, false)) {
      const group = k.apiVersion.includes('/') ? k.apiVersion.split('/')[0]! : '';
      const { name } = await kube.resource(k.apiVersion, k.kind);
      const verbs = new Set(apiRole.rules.filter((r: any) => r.apiGroups.includes(group) && r.resources.includes(name)).flatMap((r: any) => r.verbs));
      for (const v of ['list', 'delete']) if (!verbs.has(v)) missing.push(`API ${k.kind}: ${v}`);
      // ...and creates nothing.
      for (const v of ['create', 'patch', 'update']) if (verbs.has(v)) missing.push(`API ${k.kind} must not ${v}`);
    }
    expect([...new Set(missing)]).toEqual([]);
  });
});

describe('configuration and commands', () => {
  it('every variable the Deployments and the ConfigMap set is a configuration key; they run existing commands; the base loads', () => {
    const commands = cliCommands();
    expect(commands).toContain('serve');
    expect(commands).toContain('worker');
    for (const dir of [BASE, OVERLAY]) {
      const objects = kustomize(dir);
      for (const key of Object.keys(find(objects, 'ConfigMap', 'kubernetes-broker-config').data)) expect(CONFIG_KEYS, `ConfigMap ${key}`).toContain(key);
      for (const name of ['kubernetes-broker-api', 'kubernetes-broker-worker']) {
        const d = find(objects, 'Deployment', name);
        const vars = containerEnv(objects, d);
        for (const key of Object.keys(vars)) expect(CONFIG_KEYS, `${name}: ${key}`).toContain(key);
        for (const c of d.spec.template.spec.containers) expect(commands, `${name} runs ${c.args}`).toContain(c.args[0]);
        // The placeholders keep the broker from starting until every one is replaced...
        expect(() => loadConfig(vars)).toThrow(ConfigError);
        for (const key of ['AUTH_USER', 'AUTH_PASS', 'ADMIN_USER', 'ADMIN_PASS', 'CODEC_KEYS'])
          expect(() => loadConfig(vars)).toThrow(new RegExp(`${key}: still holds the placeholder`));
        // ...and with real values the configuration is valid as it stands.
        const config = loadConfig({ ...vars, ...realSecrets });
        expect(config.NAMESPACE_STRATEGY).toBe(dir === BASE ? 'fixed' : 'per-instance');
      }
    }
  });

  it('the commented CODEC_AUTH=oidc examples are configuration the API loads: config.yaml rendered, docker-compose.yml validated', () => {
    const base = path.join(scratch, 'oidc-base');
    fs.cpSync(BASE, base, { recursive: true });
    const config = path.join(base, 'config.yaml');
    fs.writeFileSync(config, uncommentOidc(fs.readFileSync(config, 'utf8')));
    const api = containerEnv(kustomize(base), find(kustomize(base), 'Deployment', 'kubernetes-broker-api'));
    const oidc = {
      CODEC_AUTH: 'oidc',
      CODEC_OIDC_ISSUER: 'https://login.example.com/realms/ops',
      CODEC_OIDC_AUDIENCE: 'urn:kubernetes-broker:codec',
      CODEC_OIDC_CLAIM: 'groups=temporal-operators',
    };
    expect(loadConfig({ ...api, ...realSecrets })).toMatchObject({ ...oidc, CODEC_OIDC_JWKS_URL: 'https://login.example.com/keys' });

    const compose = path.join(scratch, 'oidc-compose.yml');
    fs.writeFileSync(compose, uncommentOidc(fs.readFileSync(COMPOSE_FILE, 'utf8')));
    const result = validateCompose(compose, { ...composeEnv, TEMPORAL_AUTH_CLIENT_SECRET: 'a-client-secret' });
    expect(result.status, result.stderr).toBe(0);
    const { services } = JSON.parse(result.stdout) as { services: Record<string, { environment: Record<string, string> }> };
    expect(loadConfig(services['broker-api']!.environment)).toMatchObject(oidc);
    expect(services['broker-worker']!.environment).not.toHaveProperty('CODEC_AUTH'); // only the API serves /codec
    expect(services['temporal-ui']!.environment).toMatchObject({
      TEMPORAL_AUTH_ENABLED: 'true',
      TEMPORAL_AUTH_CLIENT_SECRET: 'a-client-secret',
      TEMPORAL_CODEC_PASS_ACCESS_TOKEN: 'true',
    });
  });

  it('the compose services set only configuration keys and run existing commands; the Dockerfile runs bin/kubernetes-broker.js', () => {
    const commands = cliCommands();
    const result = validateCompose(COMPOSE_FILE, composeEnv);
    expect(result.status, result.stderr).toBe(0);
    const project = JSON.parse(result.stdout) as {
      services: Record<string, { command?: string[]; environment?: Record<string, string>; image?: string; build?: unknown }>;
    };
    const brokers = Object.entries(project.services).filter(([, s]) => s.build);
    expect(brokers.map(([n]) => n).sort()).toEqual(['broker-api', 'broker-worker']);
    for (const [name, s] of brokers) {
      expect(commands, name).toContain(s.command?.[0]);
      for (const key of Object.keys(s.environment ?? {})) expect(CONFIG_KEYS, `${name}: ${key}`).toContain(key);
      expect(() => loadConfig(s.environment as Record<string, string>), name).not.toThrow();
    }
    expect(project.services['broker-api']!.command).toEqual(['serve']);
    expect(project.services['broker-worker']!.command).toEqual(['worker']);

    const dockerfile = fs.readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    const instruction = (name: string) => {
      const line = dockerfile
        .split('\n')
        .filter((l) => l.startsWith(`${name} `))
        .at(-1);
      return line ? (JSON.parse(line.slice(name.length + 1)) as string[]) : undefined;
    };
    expect(instruction('ENTRYPOINT')).toEqual(['node', 'bin/kubernetes-broker.js']);
    expect(fs.existsSync(path.join(PROJECT_ROOT, 'bin/kubernetes-broker.js'))).toBe(true);
    expect(commands).toContain(instruction('CMD')?.[0]);
    // What the stages copy from the build context, and what `npm run build` reads, is there and not ignored.
    const patterns = fs
      .readFileSync(path.join(PROJECT_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const copied = dockerfile
      .split('\n')
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from'))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    const build = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['build']!;
    const sources = [...copied.filter((src) => src !== '.'), ...[...build.matchAll(/[\w./-]+\.(?:mjs|json)\b/g)].map((m) => m[0])];
    expect(sources).toEqual(
      expect.arrayContaining(['bin', 'package.json', 'scripts/prune-runtime.mjs', 'scripts/bundle-workflows.mjs', 'tsconfig.build.json']),
    );
    for (const src of sources) {
      expect(fs.existsSync(path.join(PROJECT_ROOT, src)), src).toBe(true);
      expect(dockerIgnored(patterns, src), `${src} is left out by .dockerignore`).toBe(false);
    }
  });
});

describe('docker-compose.yml', () => {
  it('is valid for compose-go (schema, interpolation, references), and refuses to start without the secrets', () => {
    const ok = validateCompose(COMPOSE_FILE, composeEnv);
    expect(ok.status, ok.stderr).toBe(0);
    const { AUTH_PASS: _, ...withoutPassword } = composeEnv;
    const missing = validateCompose(COMPOSE_FILE, withoutPassword);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/AUTH_PASS/);
    // The validator does validate: the same file with a dangling reference and an unknown key fails.
    const broken = path.join(scratch, 'broken-compose.yml');
    fs.writeFileSync(
      broken,
      fs.readFileSync(COMPOSE_FILE, 'utf8').replace('condition: service_completed_successfully', 'condition: service_healthy\n    nonsense: 1'),
    );
    const bad = validateCompose(broken, composeEnv);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/nonsense/);
  });

  it("its Temporal commands work with the same CLI: a persistent dev server, the health check; the worker's search attributes persist", async () => {
    const project = JSON.parse(validateCompose(COMPOSE_FILE, composeEnv).stdout) as { services: Record<string, any> };
    const temporal = project.services['temporal']!;
    const bin = env()['KB_STACK_BIN']!;
    const cli = path.join(
      bin.split(':').find((d) => fs.existsSync(path.join(d, 'temporal')))!,
      'temporal',
    );
    const version = spawnSync(cli, ['--version'], { encoding: 'utf8' }).stdout;
    expect(temporal.image).toBe(`temporalio/temporal:${/temporal version (\S+)/.exec(version)![1]}`);

    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const dbDir = fs.mkdtempSync(path.join(scratch, 'temporal-'));
    // The compose command with this machine's addresses: loopback, free ports, a scratch file.
    const serverArgs = (temporal.command as string[]).map((a) =>
      a === '--ip=0.0.0.0' ? '--ip=127.0.0.1' : a.startsWith('--db-filename=') ? `--db-filename=${dbDir}/temporal.db` : a,
    );
    serverArgs.push(`--port=${port}`, `--http-port=${await freePort()}`, `--metrics-port=${await freePort()}`);
    const health = (temporal.healthcheck.test as string[]).slice(2).map((a) => (a === '127.0.0.1:7233' ? address : a));
    const run = (args: string[]) => spawnSync(cli, args, { encoding: 'utf8' });
    const startServerProcess = async () => {
      const child = spawn(cli, serverArgs, { stdio: 'ignore' });
      await eventually('the dev server to be healthy', () => (run(health).status === 0 ? true : undefined), 60_000);
      return child;
    };
    const stop = (child: ReturnType<typeof spawn>) =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    const ours = () => run(['operator', 'search-attribute', 'list', `--address=${address}`, '--namespace=default', '-o', 'json']).stdout;
    const expected = ['KbBindingId', 'KbInstanceId', 'KbOperation', 'KbOrg', 'KbPlan', 'KbService', 'KbSpace'];

    let server = await startServerProcess();
    try {
      expect(run(health.map((a) => (a === address ? '127.0.0.1:1' : a))).status).not.toBe(0);
      // What the worker does at start, twice (every start): the first creates them, the second nothing.
      const connection = await NativeConnection.connect({ address });
      try {
        expect((await ensureSearchAttributes(connection, 'default')).sort()).toEqual(expected);
        expect(await ensureSearchAttributes(connection, 'default')).toEqual([]);
      } finally {
        await connection.close();
      }
      const listed = JSON.parse(ours()) as { customAttributes?: Record<string, string> };
      const custom = listed.customAttributes ?? {};
      expect(
        Object.keys(custom)
          .filter((k) => k.startsWith('Kb'))
          .sort(),
      ).toEqual(expected);
      for (const k of expected) expect(String(custom[k])).toMatch(/keyword/i);
      // The database file survives the server: search attributes are still there after a restart.
      await stop(server);
      server = await startServerProcess();
      expect(
        Object.keys((JSON.parse(ours()) as { customAttributes?: Record<string, string> }).customAttributes ?? {})
          .filter((k) => k.startsWith('Kb'))
          .sort(),
      ).toEqual(expected);
    } finally {
      await stop(server);
    }
  }, 120_000);
});

/** Whether .dockerignore leaves a path out of the build context: the last pattern that matches it or a parent wins, `!` lets back in. */
function dockerIgnored(patterns: string[], file: string): boolean {
  const regex = (glob: string) =>
    glob
      .split('**/')
      .map((part) =>
        part
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*'),
      )
      .join('(.*/)?');
  let ignored = false;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    if (new RegExp(`^${regex(negated ? p.slice(1) : p)}(/.*)?$`).test(file)) ignored = !negated;
  }
  return ignored;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

// ---- RBAC for real -------------------------------------------------------------------------

interface Deployed {
  /** The stack's cluster it is on: `b` is the second API server, a target of CLUSTERS_FILE. */
  cluster: 'a' | 'b';
  id: string;
  brokerNs: string;
  instanceNs: string;
  objects: Obj[];
  tokens: { api: string; worker: string };
  kubeconfigs: { api: string; worker: string };
}

/** Applies the manifests' namespaces and RBAC (not the workloads) with the test's names, and mints the two tokens. */
/**
 * `on.cluster` b: another target cluster of the same names (`on.id`), with what docs/clusters.md
 * says a target cluster needs: the instance rights, not the records' Roles (records stay on the default cluster).
 */
async function deployRbac(dir: string, on: { cluster: 'a' | 'b'; id?: string } = { cluster: 'a' }): Promise<Deployed> {
  const id = on.id ?? suffix();
  const brokerNs = `kb-pkg-${id}`;
  const instanceNs = `kb-pkg-inst-${id}`;
  const kube = clients[on.cluster];
  const all = parametrize(kustomize(dir), id, { [BROKER_NS]: brokerNs, [INSTANCE_NS]: instanceNs });
  const objects = on.cluster === 'a' ? all : all.filter((o) => !(o.kind === 'Role' || (o.kind === 'RoleBinding' && o.metadata.namespace === brokerNs)));
  const rbacKinds = [
    'Namespace',
    'ServiceAccount',
    'Role',
    'RoleBinding',
    'ClusterRole',
    'ClusterRoleBinding',
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicyBinding',
  ];
  for (const kind of rbacKinds) {
    for (const o of objects.filter((x) => x.kind === kind)) await kube.apply(o, { fieldManager: FIELD_MANAGER, force: true });
  }
  const cluster = loadKubeConfig({ KUBECONFIG: env()[on.cluster === 'a' ? 'KUBECONFIG' : 'KUBECONFIG_B'] }).getCurrentCluster()!;
  const ca = cluster.caData ?? fs.readFileSync(cluster.caFile!).toString('base64');
  const tokens = { api: '', worker: '' };
  const kubeconfigs = { api: '', worker: '' };
  for (const who of ['api', 'worker'] as const) {
    const sa = `kubernetes-broker-${who}`;
    const res = await eventually(`a token of ${sa}`, () =>
      kube.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${brokerNs}/serviceaccounts/${sa}/token`, {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
      }),
    );
    tokens[who] = res.status.token;
    // Only the token and the CA: no client certificate, nothing of the admin's.
    kubeconfigs[who] = path.join(scratch, `${who}-${id}-${on.cluster}.kubeconfig`);
    fs.writeFileSync(
      kubeconfigs[who],
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'stack', cluster: { server: cluster.server, 'certificate-authority-data': ca } }],
        users: [{ name: sa, user: { token: tokens[who] } }],
        contexts: [{ name: sa, context: { cluster: 'stack', user: sa } }],
        'current-context': sa,
      }),
      { mode: 0o600 },
    );
  }
  // An admission policy is in force a moment after it is stored: until it refuses the worker a
  // namespace the broker did not make (RBAC alone allows the patch under the overlay).
  if (objects.some((o) => o.kind === 'ValidatingAdmissionPolicy')) {
    await eventually('the namespace guard in force', async () =>
      (await statusAs(tokens.worker, 'PATCH', `/api/v1/namespaces/${brokerNs}?dryRun=All`, { metadata: { labels: { probe: 'x' } } }, MERGE_PATCH)) === 403
        ? true
        : undefined,
    );
  }
  return { cluster: on.cluster, id, brokerNs, instanceNs, objects, tokens, kubeconfigs };
}

async function undeploy(d: Deployed): Promise<void> {
  const kube = clients[d.cluster];
  for (const o of d.objects.filter((x) => CLUSTER_SCOPED_RENAMED.includes(x.kind))) {
    await kube.delete(o.apiVersion, o.kind, undefined, o.metadata.name);
  }
  for (const o of d.objects.filter((x) => x.kind === 'Namespace')) await kube.delete('v1', 'Namespace', undefined, o.metadata.name);
}

/** The worker and the API as the Deployments run them: the ConfigMap's settings, each process with its own token. */
/** The organization whose instances go to the second cluster (`other` of startBrokerAs). */
const ORG_ON_B = 'org-on-b';

/** A clusters file: the cluster `b` with one identity's kubeconfig there, and ORG_ON_B routed to it. */
function clustersFileFor(other: Deployed, who: 'api' | 'worker'): string {
  const file = path.join(scratch, `clusters-${other.id}-${who}.yaml`);
  const clusters = { clusters: [{ name: 'b', kubeconfig: other.kubeconfigs[who] }], routing: [{ organization: ORG_ON_B, cluster: 'b' }] };
  fs.writeFileSync(file, stringify(clusters));
  return file;
}

async function startBrokerAs(d: Deployed, other?: Deployed) {
  const data = find(d.objects, 'ConfigMap', 'kubernetes-broker-config').data as Record<string, string>;
  const common = {
    ...data,
    TEMPORAL_ADDRESS: env()['TEMPORAL_ADDRESS']!,
    TEMPORAL_NAMESPACE: env()['TEMPORAL_NAMESPACE'] ?? 'default',
    TEMPORAL_TASK_QUEUE: `packaging-${d.id}`,
    TEMPORAL_UI_URL: env()['TEMPORAL_UI_URL'] ?? '',
    AUTH_USER: 'platform',
    AUTH_PASS: 'test-password',
    ADMIN_USER: 'operator',
    ADMIN_PASS: 'operator-password',
    CODEC_KEYS: composeEnv.CODEC_KEYS,
    PORT: '0',
    HOST: '127.0.0.1',
    POLL_INTERVAL: '1',
    BROKER_LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'WARNING',
    // Orphans of this test are made by it a moment before it deletes them.
    ORPHAN_MIN_AGE: '1',
  };
  const clustersOf = (who: 'api' | 'worker') => (other ? { CLUSTERS_FILE: clustersFileFor(other, who) } : {});
  const workerConfig = loadConfig({ ...common, KUBECONFIG: d.kubeconfigs.worker, ...clustersOf('worker') });
  const logger = createLogger(workerConfig.BROKER_LOG_LEVEL);
  const worker = await startWorker(workerConfig, logger);
  const server = await startServer(loadConfig({ ...common, KUBECONFIG: d.kubeconfigs.api, ...clustersOf('api') }), logger).catch(async (err) => {
    await worker.shutdown();
    throw err;
  });
  const admin = async (method: string, p: string) => {
    const res = await fetch(`${server.url}${p}`, {
      method,
      headers: { Authorization: `Basic ${Buffer.from('operator:operator-password').toString('base64')}` },
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
  };
  return {
    osb: new Osb(server.url, 'platform', 'test-password'),
    admin,
    stop: async () => {
      await server.close();
      await worker.shutdown();
    },
  };
}

/** A direct request with a token only; the HTTP status. */
async function statusAs(token: string, method: string, urlPath: string, body?: unknown, contentType?: string): Promise<number> {
  const api = new KubeApi(loadKubeConfig({ KUBECONFIG: writeTokenKubeconfig(token) }));
  try {
    await api.request(method, urlPath, body === undefined ? {} : { body, ...(contentType ? { contentType } : {}) });
    return 200;
  } catch (err) {
    if (err instanceof KubeApiError) return err.status;
    throw err;
  } finally {
    api.close();
  }
}

/**
 * `kubectl auth can-i` as one of the broker's ServiceAccounts (the admin impersonates it): each
 * [verb, resource, namespace ('' = cluster-scoped or every namespace)] with the answers that differ from `expected`.
 */
function canI(d: Deployed, who: 'api' | 'worker', expected: 'yes' | 'no', checks: [string, string, string][]): string[] {
  const wrong: string[] = [];
  for (const [verb, resource, ns] of checks) {
    const args = [
      'auth',
      'can-i',
      verb,
      resource,
      `--as=system:serviceaccount:${d.brokerNs}:kubernetes-broker-${who}`,
      ...(ns ? ['-n', ns] : ['--all-namespaces']),
    ];
    const kubeconfig = env()[d.cluster === 'a' ? 'KUBECONFIG' : 'KUBECONFIG_B']!;
    const out = spawnSync('kubectl', args, { env: { ...withStackPath(), KUBECONFIG: kubeconfig }, encoding: 'utf8' });
    const answer = out.stdout.trim();
    if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl ${args.join(' ')}: ${out.stderr}`);
    if (answer !== expected) wrong.push(`${who} can-i ${verb} ${resource} ${ns ? `-n ${ns}` : '(all namespaces)'} on cluster ${d.cluster}: ${answer}`);
  }
  return wrong;
}

const NAMESPACE_WRITES: [string, string, string][] = ['create', 'patch', 'delete'].map((verb) => [verb, 'namespaces', '']);

/** What neither overlay lets the API or the worker do. */
/** `perInstance`: RoleBindings outside instance namespaces are refused by admission (namespace-guard.yaml), not by RBAC: tried for real below. */
function refusedEverywhere(d: Deployed, perInstance = false): string[] {
  return [
    ...canI(d, 'api', 'no', [
      ['list', 'secrets', 'kube-system'],
      ['get', 'secrets', 'kube-system'],
      ['list', 'secrets', ''],
      ['list', 'configmaps', 'kube-system'],
      ['create', 'secrets', d.brokerNs],
      ...NAMESPACE_WRITES,
      ['delete', 'pods', 'kube-system'],
      ['delete', 'deployments.apps', 'kube-system'],
      ['create', 'rolebindings.rbac.authorization.k8s.io', d.brokerNs],
    ]),
    ...canI(d, 'api', 'yes', [
      ['list', 'secrets', d.brokerNs],
      ['watch', 'secrets', d.brokerNs], // the instance counts of quotas
    ]),
    ...canI(d, 'worker', 'no', [
      ['create', 'clusterroles.rbac.authorization.k8s.io', ''],
      ...(perInstance ? [] : ([['create', 'rolebindings.rbac.authorization.k8s.io', 'kube-system']] as [string, string, string][])),
      ['escalate', 'clusterroles.rbac.authorization.k8s.io', ''],
      ['impersonate', 'serviceaccounts', ''],
    ]),
    ...canI(d, 'worker', 'yes', [['list', 'secrets', d.brokerNs]]),
  ];
}

function writeTokenKubeconfig(token: string): string {
  const cluster = loadKubeConfig({ KUBECONFIG: env()['KUBECONFIG'] }).getCurrentCluster()!;
  const file = path.join(scratch, `token-${suffix()}.kubeconfig`);
  fs.writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'c', cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData ?? fs.readFileSync(cluster.caFile!).toString('base64') } },
      ],
      users: [{ name: 'u', user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }),
    { mode: 0o600 },
  );
  return file;
}

/** provision -> succeeded, bind -> 201 with credentials, unbind, deprovision -> 410; nothing left. */
/** `on`: the instance goes to the second cluster (its organization is routed there), its records stay on the first. */
async function lifecycle(
  broker: Awaited<ReturnType<typeof startBrokerAs>>,
  d: Deployed,
  serviceName: string,
  planName: string,
  perInstance: boolean,
  on: 'a' | 'b' = 'a',
) {
  const target = clients[on];
  const catalog = (await broker.osb.request('GET', '/v2/catalog')).body as { services: { id: string; name: string; plans: { id: string; name: string }[] }[] };
  const service = catalog.services.find((s) => s.name === serviceName)!;
  const plan = service.plans.find((p) => p.name === planName)!;
  const id = `pkg-${serviceName}-${suffix()}`;
  const osb = broker.osb;

  const provision = await osb.provision(id, { service_id: service.id, plan_id: plan.id, organization_guid: on === 'b' ? ORG_ON_B : 'o', space_guid: 's' });
  expect(provision.status, JSON.stringify(provision.body)).toBe(202);
  expect((await osb.waitForOperation(id, provision.body.operation, 180_000)).body).toEqual({ state: 'succeeded' });
  const namespace = perInstance ? (await broker.admin('GET', `/admin/instances/${id}`)).body?.namespace : d.instanceNs;
  expect(namespace, 'the instance namespace').toBeTruthy();
  if (perInstance) expect(namespace).not.toBe(d.instanceNs);
  const pods = await target.list<any>('v1', 'Pod', namespace, { labelSelector: instanceSelector(id) });
  expect(pods.items.length).toBeGreaterThan(0);
  // Isolated from other instances; in a namespace of its own, under the plan's Pod Security level.
  const policies = await target.list('networking.k8s.io/v1', 'NetworkPolicy', namespace, { labelSelector: instanceSelector(id) });
  expect(policies.items.map((p) => p.metadata.name)).toEqual([isolationPolicyName(id)]);
  if (perInstance) {
    expect((await target.get('v1', 'Namespace', undefined, namespace))?.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      [INSTANCE_NAMESPACE_LABEL]: 'true',
    });
  }

  // The API's token suffices for the admin routes (they list every kind deprovision sweeps).
  const shown = await broker.admin('GET', `/admin/instances/${id}`);
  expect(shown.status, JSON.stringify(shown.body)).toBe(200);
  expect(shown.body.cluster).toBe(on === 'b' ? 'b' : 'default');
  expect(shown.body.objects.length).toBeGreaterThan(0);
  expect((await broker.admin('GET', `/admin/instances/${id}/pods`)).status).toBe(200);
  const orphans = await broker.admin('GET', '/admin/orphans');
  expect(orphans.status, JSON.stringify(orphans.body)).toBe(200);

  const bindingId = `b-${id}`;
  // KWOK runs no container: the test writes the Secret a bind hook's pod would (with the hook
  // ServiceAccount the worker made).
  const shipped = (await loadCatalog(SHIPPED_CATALOG_DIR)).catalog.services.flatMap((s) => s.plans).find((p) => p.id === plan.id)!;
  const bindJobs = shipped.hooks?.onBindInstance ? playBindJobs(target, shipped, namespace, id) : undefined;
  try {
    const bind = await osb.bind(id, bindingId, { service_id: service.id, plan_id: plan.id, bind_resource: { app_guid: 'app' } });
    expect(bind.status, JSON.stringify(bind.body)).toBe(201);
    expect(bind.body.credentials.hostname).toContain(`.${namespace}.svc`);
    expect(bind.body.credentials.password).toBeTruthy();
    expect((await osb.request('GET', `/v2/service_instances/${id}/service_bindings/${bindingId}`)).status).toBe(200);
    expect((await osb.unbind(id, bindingId, service.id, plan.id)).status).toBe(200);
  } finally {
    await bindJobs?.stop();
  }

  const deprovision = await osb.deprovision(id, service.id, plan.id);
  expect(deprovision.status).toBe(202);
  const done = await osb.waitForOperation(id, deprovision.body.operation, 180_000);
  expect(done.status).toBe(410);
  expect((await osb.deprovision(id, service.id, plan.id)).status).toBe(410);

  const left: string[] = [];
  for (const [v, k] of MANAGED_KINDS) {
    const items = await target.list(v, k, namespace, { labelSelector: instanceSelector(id) }).then(
      (l) => l.items,
      () => [],
    );
    left.push(...items.map((o) => `${k}/${o.metadata.name}`));
  }
  const records = await kube.list('v1', 'Secret', d.brokerNs, { labelSelector: `${RECORD_INSTANCE_LABEL}=${id}` });
  left.push(...records.items.map((r) => `record/${r.metadata.name}`));
  if (perInstance) {
    const ns = await target.get('v1', 'Namespace', undefined, namespace);
    if (ns) left.push(`Namespace/${namespace}`);
  }
  expect(left).toEqual([]);
}

describe('RBAC of deploy/base, for real', () => {
  let d: Deployed;
  let broker: Awaited<ReturnType<typeof startBrokerAs>>;

  beforeAll(async () => {
    d = await deployRbac(BASE);
    broker = await startBrokerAs(d);
  });
  afterAll(async () => {
    await broker?.stop();
    if (d) await undeploy(d);
  });

  it.concurrent(
    'redis/small: provision, bind, unbind, deprovision with the tokens of the two ServiceAccounts',
    async () => {
      await lifecycle(broker, d, 'redis', 'small', false);
    },
    240_000,
  );

  it.concurrent(
    'rabbitmq/cluster: provision, bind, unbind, deprovision with the tokens of the two ServiceAccounts',
    async () => {
      await lifecycle(broker, d, 'rabbitmq', 'cluster', false);
    },
    240_000,
  );

  it('the worker token is refused what the broker must not do', async () => {
    const t = d.tokens.worker;
    // The token works where it should...
    expect(await statusAs(t, 'GET', `/api/v1/namespaces/${d.instanceNs}/secrets`)).toBe(200);
    expect(await statusAs(t, 'GET', `/api/v1/namespaces/${d.instanceNs}`)).toBe(200);
    // ...and nowhere else.
    expect(await statusAs(t, 'GET', '/api/v1/namespaces/kube-system/secrets')).toBe(403);
    expect(await statusAs(t, 'GET', '/api/v1/secrets')).toBe(403);
    expect(await statusAs(t, 'GET', '/api/v1/namespaces/default/pods')).toBe(403);
    expect(await statusAs(t, 'GET', '/api/v1/namespaces/default')).toBe(403);
    expect(await statusAs(t, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `kb-pkg-no-${d.id}` } })).toBe(403);
    expect(await statusAs(t, 'DELETE', `/api/v1/namespaces/${d.instanceNs}`)).toBe(403);
    // Not even its own namespace's labels (Pod Security).
    expect(await statusAs(t, 'PATCH', `/api/v1/namespaces/${d.instanceNs}`, { metadata: { labels: { a: 'b' } } }, MERGE_PATCH)).toBe(403);
    expect(
      await statusAs(t, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: `kb-pkg-no-${d.id}` },
        rules: [],
      }),
    ).toBe(403);
    // Roles (for the plans' hook accounts) only with rights it holds itself: not exec into pods.
    expect(
      await statusAs(t, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${d.instanceNs}/roles?dryRun=All`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'no' },
        rules: [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }],
      }),
    ).toBe(403);
    expect(
      await statusAs(t, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${d.instanceNs}/rolebindings?dryRun=All`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'no' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: d.instanceNs }],
      }),
    ).toBe(403);
    // Offerings: read, never written.
    expect(await statusAs(t, 'GET', `/api/v1/namespaces/${d.brokerNs}/configmaps`)).toBe(200);
    expect(
      await statusAs(t, 'POST', `/api/v1/namespaces/${d.brokerNs}/configmaps?dryRun=All`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no' } }),
    ).toBe(403);
    // The sweep-only kinds cannot be created.
    expect(
      await statusAs(t, 'POST', `/api/v1/namespaces/${d.instanceNs}/pods?dryRun=All`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'no' },
        spec: { containers: [{ name: 'c', image: 'x' }] },
      }),
    ).toBe(403);
  });

  it('kubectl auth can-i: no Secret outside the broker namespaces, no namespace created, patched or deleted', () => {
    expect([
      ...refusedEverywhere(d),
      ...canI(d, 'worker', 'no', [...NAMESPACE_WRITES, ['list', 'secrets', 'kube-system'], ['list', 'pods', 'default']]),
      ...canI(d, 'api', 'yes', [['list', 'secrets', d.instanceNs]]),
    ]).toEqual([]);
  });

  it('the API token reads records and instance objects, and creates nothing but offerings (ConfigMaps of the broker namespace)', async () => {
    const t = d.tokens.api;
    expect(await statusAs(t, 'GET', `/api/v1/namespaces/${d.brokerNs}/secrets`)).toBe(200);
    expect(
      await statusAs(t, 'POST', `/api/v1/namespaces/${d.brokerNs}/configmaps?dryRun=All`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'offering' },
      }),
    ).toBe(200);
    expect(await statusAs(t, 'GET', `/api/v1/namespaces/${d.brokerNs}/configmaps?watch=true&timeoutSeconds=1`)).toBe(200);
    expect(
      await statusAs(t, 'POST', `/api/v1/namespaces/${d.instanceNs}/configmaps?dryRun=All`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no' } }),
    ).toBe(403);
    expect(
      await statusAs(t, 'POST', `/api/v1/namespaces/${d.brokerNs}/secrets?dryRun=All`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'no' } }),
    ).toBe(403);
    expect(
      await statusAs(t, 'POST', `/apis/apps/v1/namespaces/${d.instanceNs}/deployments?dryRun=All`, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'no' },
      }),
    ).toBe(403);
    expect(await statusAs(t, 'GET', '/api/v1/namespaces/kube-system/secrets')).toBe(403);
    expect(await statusAs(t, 'GET', `/api/v1/namespaces/${d.brokerNs}`)).toBe(403);
  });
});

describe('RBAC of the per-instance overlay, for real', () => {
  let d: Deployed;
  let broker: Awaited<ReturnType<typeof startBrokerAs>>;

  beforeAll(async () => {
    d = await deployRbac(OVERLAY);
    broker = await startBrokerAs(d);
  });
  afterAll(async () => {
    await broker?.stop();
    if (d) await undeploy(d);
  });

  it('redis/small in a namespace of its own: made and deleted by the worker', async () => {
    expect(d.objects.some((o) => o.kind === 'Namespace' && o.metadata.name === d.instanceNs)).toBe(false);
    await lifecycle(broker, d, 'redis', 'small', true);
  }, 240_000);

  it('kubectl auth can-i: the API reads no Secret and deletes nothing outside the broker namespace; the worker may create namespaces', () => {
    expect([
      ...refusedEverywhere(d, true),
      // The admin views: instance objects of other kinds, and namespaces, in every namespace.
      ...canI(d, 'api', 'yes', [
        ['list', 'pods', ''],
        ['list', 'deployments.apps', ''],
        ['list', 'namespaces', ''],
      ]),
      ...canI(d, 'api', 'no', [
        ['list', 'secrets', 'default'],
        ['list', 'configmaps', ''],
        ['delete', 'pods', ''],
      ]),
      // RBAC cannot select namespaces by label: patch and delete are granted, and narrowed by the guard (below).
      ...canI(d, 'worker', 'yes', NAMESPACE_WRITES),
    ]).toEqual([]);
  });

  it('the RBAC guard: the worker token makes Roles and RoleBindings only in instance namespaces, binding a Role to their own ServiceAccounts', async () => {
    const t = d.tokens.worker;
    const rbac = '/apis/rbac.authorization.k8s.io/v1/namespaces';
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'hook' }, rules: [] };
    const binding = (ns: string, roleRef: { kind: string; name: string }, saNamespace = ns) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'hook' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef },
      subjects: [{ kind: 'ServiceAccount', name: 'hook', namespace: saNamespace }],
    });
    // A ClusterRole whose rights the worker holds everywhere: RBAC lets it bind that anywhere.
    const workerRole = { kind: 'ClusterRole', name: find(d.objects, 'ClusterRole', `kubernetes-broker-worker-instances-${d.id}`).metadata.name };
    for (const ns of ['kube-system', 'default']) {
      expect(await statusAs(t, 'POST', `${rbac}/${ns}/roles?dryRun=All`, role), `role in ${ns}`).toBe(403);
      expect(await statusAs(t, 'POST', `${rbac}/${ns}/rolebindings?dryRun=All`, binding(ns, workerRole)), `binding in ${ns}`).toBe(403);
    }
    const made = await kube.apply(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: `kb-pkg-rbac-${d.id}`, labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [INSTANCE_ID_LABEL]: `rbac-${d.id}` } },
      },
      { fieldManager: FIELD_MANAGER },
    );
    const ns = made.metadata.name;
    try {
      await kube.apply({ ...role, metadata: { name: 'hook', namespace: ns } }, { fieldManager: FIELD_MANAGER });
      expect(await statusAs(t, 'POST', `${rbac}/${ns}/roles?dryRun=All`, { ...role, metadata: { name: 'another' } })).toBe(200);
      expect(await statusAs(t, 'POST', `${rbac}/${ns}/rolebindings?dryRun=All`, binding(ns, { kind: 'Role', name: 'hook' }))).toBe(200);
      // Its own rights handed to a ServiceAccount elsewhere, or a ClusterRole bound: refused.
      expect(await statusAs(t, 'POST', `${rbac}/${ns}/rolebindings?dryRun=All`, binding(ns, { kind: 'Role', name: 'hook' }, 'kube-system'))).toBe(403);
      expect(await statusAs(t, 'POST', `${rbac}/${ns}/rolebindings?dryRun=All`, binding(ns, workerRole))).toBe(403);
    } finally {
      await kube.delete('v1', 'Namespace', undefined, ns);
    }
  });

  it('the namespace guard: the worker token may not label, delete or make a namespace that is not one the broker makes for an instance', async () => {
    const t = d.tokens.worker;
    const label = { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } };
    for (const ns of ['kube-system', 'default', d.brokerNs]) {
      expect(await statusAs(t, 'PATCH', `/api/v1/namespaces/${ns}?dryRun=All`, label, MERGE_PATCH), `patch ${ns}`).toBe(403);
      expect(await statusAs(t, 'DELETE', `/api/v1/namespaces/${ns}?dryRun=All`), `delete ${ns}`).toBe(403);
    }
    const namespace = (labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `kb-pkg-guard-${d.id}`, labels } });
    const broker = { [MANAGED_BY_LABEL]: MANAGED_BY, [INSTANCE_ID_LABEL]: `guard-${d.id}` };
    expect(await statusAs(t, 'POST', '/api/v1/namespaces?dryRun=All', namespace({}))).toBe(403);
    expect(await statusAs(t, 'POST', '/api/v1/namespaces?dryRun=All', namespace(broker))).toBe(403);
    expect(await statusAs(t, 'POST', '/api/v1/namespaces?dryRun=All', namespace({ ...broker, 'pod-security.kubernetes.io/enforce': 'restricted' }))).toBe(200);
    // A namespace the broker made for an instance: the worker may relabel it, not hand it to another instance, and delete it.
    const made = await kube.apply(namespace({ ...broker, 'pod-security.kubernetes.io/enforce': 'restricted' }), { fieldManager: FIELD_MANAGER });
    try {
      const p = `/api/v1/namespaces/${made.metadata.name}?dryRun=All`;
      expect(await statusAs(t, 'PATCH', p, { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } }, MERGE_PATCH)).toBe(200);
      expect(await statusAs(t, 'PATCH', p, { metadata: { labels: { [INSTANCE_ID_LABEL]: 'another' } } }, MERGE_PATCH)).toBe(403);
      expect(await statusAs(t, 'DELETE', p)).toBe(200);
    } finally {
      await kube.delete('v1', 'Namespace', undefined, made.metadata.name);
    }
    // The API token: no namespace deleted, no Secret read outside the broker's namespace.
    expect(await statusAs(d.tokens.api, 'DELETE', `/api/v1/namespaces/${made.metadata.name}?dryRun=All`)).toBe(403);
    expect(await statusAs(d.tokens.api, 'GET', '/api/v1/secrets')).toBe(403);
  });

  it('DELETE /admin/orphans reports an orphaned instance namespace as refused (the API may not delete namespaces) and leaves it', async () => {
    const name = `kb-pkg-orphan-${d.id}`;
    await kube.apply(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [INSTANCE_ID_LABEL]: `pkg-orphan-${d.id}`, [INSTALLATION_LABEL]: d.brokerNs } },
      },
      { fieldManager: FIELD_MANAGER },
    );
    // Older than ORPHAN_MIN_AGE (1 s; creation times are whole seconds).
    await new Promise((r) => setTimeout(r, 2100));
    try {
      const listed = await broker.admin('GET', '/admin/orphans');
      expect(listed.status, JSON.stringify(listed.body)).toBe(200);
      expect(listed.body.orphans).toContainEqual(expect.objectContaining({ kind: 'Namespace', name }));
      const res = await broker.admin('DELETE', '/admin/orphans');
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.refused).toContainEqual(expect.stringContaining(`Namespace ${name} `));
      expect(await kube.get('v1', 'Namespace', undefined, name)).toBeDefined();
    } finally {
      await kube.delete('v1', 'Namespace', undefined, name);
    }
  });

  it("the worker still cannot create cluster-wide RBAC, but reads Secrets in every namespace: the strategy's documented price", async () => {
    const t = d.tokens.worker;
    expect(
      await statusAs(t, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: `kb-pkg-no-${d.id}` },
        rules: [],
      }),
    ).toBe(403);
    // The documented price of the strategy: instance rights in every namespace.
    expect(await statusAs(t, 'GET', '/api/v1/namespaces/kube-system/secrets')).toBe(200);
  });
});

describe('RBAC of deploy/base on a second cluster (CLUSTERS_FILE), for real', () => {
  let d: Deployed;
  let onB: Deployed;
  let broker: Awaited<ReturnType<typeof startBrokerAs>>;

  beforeAll(async () => {
    d = await deployRbac(BASE);
    onB = await deployRbac(BASE, { cluster: 'b', id: d.id });
    broker = await startBrokerAs(d, onB);
  });
  afterAll(async () => {
    await broker?.stop();
    if (onB) await undeploy(onB);
    if (d) await undeploy(d);
  });

  it('redis/small on cluster b: provision, bind, unbind, deprovision with tokens of ServiceAccounts of each cluster, records on the first', async () => {
    await lifecycle(broker, d, 'redis', 'small', false, 'b');
  }, 240_000);

  it('kubectl auth can-i on cluster b: the instance rights only, no records, no Secret elsewhere', () => {
    const elsewhere: [string, string, string][] = [['list', 'secrets', onB.brokerNs], ['list', 'secrets', 'kube-system'], ...NAMESPACE_WRITES];
    expect([
      ...canI(onB, 'worker', 'yes', [['create', 'deployments.apps', onB.instanceNs]]),
      ...canI(onB, 'api', 'yes', [['list', 'pods', onB.instanceNs]]),
      ...canI(onB, 'worker', 'no', elsewhere),
      ...canI(onB, 'api', 'no', elsewhere),
    ]).toEqual([]);
  });
});
