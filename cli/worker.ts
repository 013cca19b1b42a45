// The Temporal worker: runs the broker's workflows and activities against Kubernetes.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureSearchAttributes } from '../platform/temporal/register-search-attributes.js';
import { DefaultLogger, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { HEARTBEAT_MS } from '../activities/watch-until.js';
import type { Config } from '../platform/config/config.js';
import { workerDataConverter } from '../platform/temporal/codec.js';
import { connectWorker } from '../platform/temporal/worker-connection.js';
import type { KubeApi } from '../platform/kube/api.js';
import { loadClusters } from '../platform/config/clusters.js';
import { KubeClusters } from '../platform/kube/clusters.js';
import { KubeApiError } from '../platform/kube/errors.js';
import { FIELD_MANAGER, RecordStore } from '../platform/kube/records.js';
import { keepRecordsLabelled } from '../platform/kube/record-labelling.js';
import { installationOf } from '../platform/kube/installation.js';
import type { Logger } from '../platform/observability/logger.js';
import { loadLiveCatalog } from './load-catalog.js';

/** A module next to the worker, as source (tsx, vitest) or built (dist, also from dist/bundle). */
function modulePath(name: string): string {
  for (const ext of ['.js', '.ts']) {
    const file = fileURLToPath(new URL(`../${name}${ext}`, import.meta.url));
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`${name} not found next to the worker`);
}

/** workflows/index, as source (tsx, vitest) or built (dist). */
export const workflowsPath = () => modulePath('workflows/index');

/**
 * The workflow code the worker runs: the bundle `npm run build` writes (dist/workflow-bundle.js,
 * beside dist/cli and dist/bundle, so never found from the sources), else workflows/index for the
 * SDK to bundle at start, which needs webpack and swc (a source checkout, tsx, tests).
 */
export function workflowCode(): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const codePath = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
  return fs.existsSync(codePath) ? { workflowBundle: { codePath } } : { workflowsPath: workflowsPath() };
}

/** The namespaces the broker writes to must exist before the first operation. */
async function ensureNamespaces(kube: KubeApi, names: string[]): Promise<void> {
  for (const name of new Set(names)) {
    try {
      await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: FIELD_MANAGER });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 403 && (await kube.get('v1', 'Namespace', undefined, name).catch(() => undefined))) continue;
      throw new Error(`cannot create namespace ${name} (${(err as Error).message}); create it, or give the broker the right to`, { cause: err });
    }
  }
}

/** Concurrent activities of one worker (see Worker.create below). */
export const MAX_CONCURRENT_ACTIVITIES = 2000;

/**
 * Concurrent local activities of one worker: the short steps of provisions and deprovisions
 * (the local-steps patch, workflows/VERSIONS.md), each a few Kubernetes requests. A local activity runs inside its
 * workflow task, which keeps its workflow task slot (maxConcurrentWorkflowTaskExecutions, the
 * SDK's 40) until its local activities are done; an operation runs one at a time, so today at
 * most that many run at once. Set well above that (the SDK's default is 100) so that it never binds
 * first, also if the workflow task slots are raised for the 500 operations of the scale benchmark:
 * a local activity waiting for a slot of its own keeps its workflow task, and that task's slot, waiting too.
 */
export const MAX_CONCURRENT_LOCAL_ACTIVITIES = 1000;

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Temporal SDK logs go through our logger (warnings and up: it is chatty below); its metrics,
 * with the workflows' operation metrics, on a Prometheus endpoint when an address is set.
 */
function installTemporalRuntime(logger: Logger, metricsAddress: string | undefined): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', (e) => logger[LEVELS[e.level]]({ ...e.meta, sdk: 'temporal' }, e.message)),
      ...(metricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } } : {}),
    });
  } catch {
    // installed already (several workers in one process, as in tests)
  }
}

export async function startWorker(config: Config, logger: Logger) {
  installTemporalRuntime(logger, config.WORKER_METRICS_ADDRESS);
  // First: settings Temporal refuses stop the worker before it touches Kubernetes.
  const connection = await connectWorker(config.temporal);
  const created = await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE).catch(async (err: unknown) => {
    await connection.close();
    throw err;
  });
  if (created.length) logger.info({ namespace: config.TEMPORAL_NAMESPACE, created }, 'search attributes created');
  const clusters = KubeClusters.connect(loadClusters(config), config);
  const kube = clusters.home;
  const catalog = await loadLiveCatalog(config.CATALOG_DIR, kube, config.BROKER_NAMESPACE, logger);
  const records = new RecordStore(kube, config.BROKER_NAMESPACE, logger, installationOf(config));
  // Records in the default cluster; instances' fixed namespace on every cluster. Only the default
  // cluster is required to start: another one that is unreachable stalls its own instances'
  // operations (their activities retry), not the whole broker.
  const instanceNamespaces = config.NAMESPACE_STRATEGY === 'per-instance' ? [] : [config.INSTANCE_NAMESPACE];
  for (const [name, api] of clusters.entries()) {
    const home = name === clusters.defaultName;
    await ensureNamespaces(api, [...(home ? [config.BROKER_NAMESPACE] : []), ...instanceNamespaces]).catch((err: Error) => {
      if (home) throw new Error(`cluster ${name}: ${err.message}`);
      logger.warn({ cluster: name, err: err.message }, 'cluster not ready at start: its operations wait until it is');
    });
  }
  const dataConverter = workerDataConverter(config, modulePath('platform/temporal/failure-converter'));
  const workflows = workflowCode();
  if (!config.CODEC_KEYS) logger.warn('CODEC_KEYS is not set: workflow payloads (parameters, inputs) are stored in Temporal unencrypted');
  const worker = await Worker.create({
    dataConverter,
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    ...workflows,
    // An activity holds a slot for as long as it runs, and the waits (ready, gone) run for as long
    // as Kubernetes takes: with the SDK's default of 100 slots, the 101st concurrent operation
    // could not even record itself until some instance turned ready. The activities only wait on
    // I/O (one watch per kind), so allow many; Kubernetes' own limits pace them.
    maxConcurrentActivityTaskExecutions: MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentLocalActivityExecutions: MAX_CONCURRENT_LOCAL_ACTIVITIES,
    // On shutdown, running activities get this long to finish, then they are cancelled (the
    // waits heartbeat, so they stop at once) and Temporal runs them again on another worker.
    shutdownGraceTime: '10 seconds',
    // Heartbeats carry cancellation back: do not hold them back longer than activities send them.
    maxHeartbeatThrottleInterval: HEARTBEAT_MS,
    defaultHeartbeatThrottleInterval: HEARTBEAT_MS,
    activities: createActivities({
      clusters,
      records,
      catalog,
      settings: {
        storageClass: config.STORAGE_CLASS,
        externalAddresses: config.EXTERNAL_ADDRESSES,
        externalHost: config.EXTERNAL_HOST,
        perInstanceNamespaces: config.NAMESPACE_STRATEGY === 'per-instance',
        namespaceStrategy: config.NAMESPACE_STRATEGY,
        instanceNamespace: config.INSTANCE_NAMESPACE,
        installation: installationOf(config),
        instanceNetworkPolicies: config.INSTANCE_NETWORK_POLICIES,
      },
    }),
  });
  logger.info(
    {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      temporal: config.TEMPORAL_ADDRESS,
      kubernetes: kube.serverUrl,
      clusters: clusters.names,
      // The label on everything it makes: the API's must be the same (docs/operating.md, "Orphans").
      installation: installationOf(config),
      workflows: 'workflowBundle' in workflows ? `prebuilt ${workflows.workflowBundle.codePath}` : `bundled at start from ${workflows.workflowsPath}`,
    },
    'worker started',
  );
  // Records from before the counting labels get them, now that the worker is made (its namespace
  // exists), in the background and again every minute: quotas count the unlabelled ones by reading
  // them until a recent pass says none is left (platform/kube/labelled-marker.ts).
  const labelling = keepRecordsLabelled(records, logger);
  const running = worker.run().finally(async () => {
    labelling.stop();
    await connection.close();
    await catalog.close();
    clusters.close();
  });
  return {
    running,
    /** The worker's connection, also for a client in this process (eager starts); closed when the worker stops. */
    connection,
    /** Stops polling, lets running activities finish, then closes connections. */
    shutdown: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
