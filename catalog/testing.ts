// Small catalogs on disk for tests (this module's and others'): write the files of a catalog
// into a fresh temporary directory, load it, remove it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { loadCatalog } from './load.js';

/** A file's content: text as is, anything else as JSON. */
export type FileContent = string | Record<string, unknown> | unknown[];

/** Writes `files` (paths relative to the catalog root) into a new temporary directory. */
export function writeCatalog(files: Record<string, FileContent>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catalog-'));
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(dir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

export function removeCatalog(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * For a test file: `dir(files)` writes a catalog, `load(files)` writes and loads one and gives its
 * first service and plan; every directory is removed after the file's tests.
 */
export function temporaryCatalogs() {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeCatalog));
  const dir = (files: Record<string, FileContent>) => {
    const written = writeCatalog(files);
    dirs.push(written);
    return written;
  };
  const load = async (files: Record<string, FileContent>) => {
    const { catalog, warnings } = await loadCatalog(dir(files));
    const service = catalog.services[0]!;
    return { catalog, warnings, service, plan: service.plans[0]! };
  };
  return { dir, load };
}

/** A Deployment template whose pods carry `service_id` and `component`. */
export function deployment(name: string, extra: { component?: string; env?: unknown[]; ports?: unknown[]; replicas?: unknown } = {}): Record<string, unknown> {
  const labels = { service_id: '$service_id', component: extra.component ?? 'main' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: extra.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'main', image: 'busybox', env: extra.env ?? [], ports: extra.ports ?? [] }] },
      },
    },
  };
}

/** A Service template forwarding `port` to `targetPort` (the same port when absent). */
export function service(
  name: string,
  ports: { port: number; targetPort?: number | string; name?: string }[],
  selector: Record<string, string> = { service_id: '$service_id' },
): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector, ports } };
}

/**
 * A valid catalog of one service (`db`, folder `db`) with one plan (`small`, folder `small`): a
 * Secret with `$random1`, a Deployment reading it, a Service on 5432 and a credentials mapping.
 * Entries of `files` are added or replace these.
 */
export function baseCatalog(files: Record<string, FileContent> = {}): Record<string, FileContent> {
  return {
    'db/service.json': { id: 'db-service-id', name: 'db', description: 'A database', bindable: true, tags: ['sql'] },
    'db/small/plan.json': { id: 'db-small-id', name: 'small', description: 'Small', free: true },
    'db/small/k8s/secret.json': {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: '$short_serviceid-creds' },
      data: { password: '$base64-$random1', user: '$base64-user' },
    },
    'db/small/k8s/deployment.json': deployment('$idx_and_short_serviceid', {
      env: [
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: '$short_serviceid-creds', key: 'password' } } },
        { name: 'DB_USER', value: 'user' },
      ],
      ports: [{ containerPort: 5432, name: 'pg' }],
    }),
    'db/small/k8s/service.json': service('$idx_and_short_serviceid', [{ port: 5432 }]),
    'db/small/credentials-mappings.json': {
      hostname: '$hostname',
      port: '$port_5432',
      username: '$env_DB_USER',
      password: '$env_DB_PASSWORD',
      uri: 'postgres://$env_DB_USER:$env_DB_PASSWORD@$hostname:$port_5432/db',
    },
    ...files,
  };
}
