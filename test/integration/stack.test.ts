// The local stack is real: the scheduler places pods, KWOK runs them, the controller-manager
// reconciles Deployments, StatefulSets, Jobs and garbage collection, PVCs bind, and Temporal
// runs workflows through a worker of this project's SDK.
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../../catalog/types.js';
import { eventually, kubeApi, stackEnv, suffix } from './helpers/stack.js';

const fm = { fieldManager: 'stack-test' };

type Obj = KubernetesObject & { spec?: any; status?: any };

const isReady = (p: Obj) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

// The stack runs two clusters (the second on the same etcd under another key prefix, with its
// own controllers and KWOK): both must do everything the broker relies on.
describe.each([
  { cluster: 'a' as const, podRange: /^10\.244\./ },
  { cluster: 'b' as const, podRange: /^10\.245\./ },
])('Kubernetes control plane with KWOK (cluster $cluster)', ({ cluster, podRange }) => {
  const kube = kubeApi(cluster);
  const ns = `stack-test-${suffix()}`;
  const podsOf = async (selector: string) => (await kube.list<Obj>('v1', 'Pod', ns, { labelSelector: selector })).items;

  beforeAll(async () => {
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, fm);
  });
  afterAll(async () => {
    await kube.delete('v1', 'Namespace', undefined, ns);
    kube.close();
  });

  it('is its own cluster: the other one does not see its namespace', async () => {
    const other = kubeApi(cluster === 'a' ? 'b' : 'a');
    try {
      expect(await kube.get('v1', 'Namespace', undefined, ns)).toBeDefined();
      expect(await other.get('v1', 'Namespace', undefined, ns)).toBeUndefined();
    } finally {
      other.close();
    }
  });

  it('schedules a 2-replica Deployment to Running, Ready pods with IPs that its Service lists, and garbage-collects them', async () => {
    const labels = { app: 'web' };
    await kube.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
        },
      },
      fm,
    );
    await kube.apply(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: labels, ports: [{ port: 80, targetPort: 80 }] } },
      fm,
    );

    const pods = await eventually('2 ready pods', async () => {
      const p = await podsOf('app=web');
      return p.length === 2 && p.every((x) => x.status?.phase === 'Running' && isReady(x) && x.status?.podIP && x.spec?.nodeName) ? p : undefined;
    });
    for (const p of pods) expect(p.status.podIP).toMatch(podRange);
    const deployment = await eventually('deployment available', async () => {
      const d = await kube.get<Obj>('apps/v1', 'Deployment', ns, 'web');
      return d?.status?.availableReplicas === 2 ? d : undefined;
    });
    expect(deployment.status.readyReplicas).toBe(2);

    const podIps = pods.map((p) => p.status.podIP).sort();
    const endpointIps = await eventually('endpoints of the Service', async () => {
      const slices = await kube.list<Obj>('discovery.k8s.io/v1', 'EndpointSlice', ns, { labelSelector: 'kubernetes.io/service-name=web' });
      const ips = slices.items.flatMap((s: any) => (s.endpoints ?? []).filter((e: any) => e.conditions?.ready).flatMap((e: any) => e.addresses)).sort();
      return ips.length === 2 ? ips : undefined;
    });
    expect(endpointIps).toEqual(podIps);

    await kube.delete('apps/v1', 'Deployment', ns, 'web');
    await eventually('pods garbage-collected', async () => ((await podsOf('app=web')).length === 0 ? true : undefined));
    expect(await kube.list('apps/v1', 'ReplicaSet', ns, { labelSelector: 'app=web' })).toMatchObject({ items: [] });
  });

  it('runs a StatefulSet whose volumeClaimTemplate is bound by the default StorageClass', async () => {
    const labels = { app: 'db' };
    await kube.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db', namespace: ns },
        spec: {
          replicas: 2,
          serviceName: 'db',
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'db', image: 'postgres:17' }] } },
          volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
        },
      },
      fm,
    );
    const sts = await eventually('statefulset ready', async () => {
      const s = await kube.get<Obj>('apps/v1', 'StatefulSet', ns, 'db');
      return s?.status?.readyReplicas === 2 ? s : undefined;
    });
    expect(sts.status.replicas).toBe(2);
    const pvcs = (await kube.list<Obj>('v1', 'PersistentVolumeClaim', ns)).items;
    expect(pvcs.map((p) => [p.metadata.name, p.status?.phase, p.spec?.storageClassName]).sort()).toEqual([
      ['data-db-0', 'Bound', 'standard'],
      ['data-db-1', 'Bound', 'standard'],
    ]);
  });

  it('completes a Job (KWOK reports its pod Succeeded; no container runs)', async () => {
    await kube.apply(
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'once', namespace: ns },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'once', image: 'busybox:1.36', command: ['true'] }] } } },
      },
      fm,
    );
    const job = await eventually('job complete', async () => {
      const j = await kube.get<Obj>('batch/v1', 'Job', ns, 'once');
      return j?.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
    });
    expect(job.status.succeeded).toBe(1);
  });

  it('deletes the namespace with all it holds, bound PVCs included (their protection finalizer is lifted)', async () => {
    await kube.delete('v1', 'Namespace', undefined, ns);
    await eventually('namespace gone', async () => ((await kube.get('v1', 'Namespace', undefined, ns)) ? undefined : true), 90_000);
  });
});

describe('Temporal dev server', () => {
  it('runs a workflow and its activity through a real worker', async () => {
    const env = stackEnv();
    const taskQueue = `stack-test-${suffix()}`;
    const nativeConnection = await NativeConnection.connect({ address: env['TEMPORAL_ADDRESS'] });
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./fixtures/echo-workflow.ts', import.meta.url)),
      activities: { shout: (text: string) => Promise.resolve(text.toUpperCase()) },
    });
    const connection = await Connection.connect({ address: env['TEMPORAL_ADDRESS'] });
    const client = new Client({ connection });
    try {
      const result = await worker.runUntil(client.workflow.execute('echo', { taskQueue, workflowId: `echo-${suffix()}`, args: ['hello'] }));
      expect(result).toBe('HELLO!');
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });

  it('serves its web UI', async () => {
    const res = await fetch(stackEnv()['TEMPORAL_UI_URL']!);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<html');
  });
});
