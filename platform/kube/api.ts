// A small generic client for the Kubernetes API: any kind, server-side apply, delete by
// label, list and watch. Built on @kubernetes/client-node's KubeConfig for authentication,
// with one keep-alive connection pool, because the broker issues many small requests.
import https from 'node:https';
import http from 'node:http';
import type { SecureContext } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesObject } from '../../catalog/types.js';
import { KubeApiError, KubeUnavailableError } from './errors.js';
import { SecureContextCache } from './secure-context.js';

export interface ResourceInfo {
  /** Plural resource name used in URLs (`deployments`). */
  name: string;
  namespaced: boolean;
}

export interface ObjectList<T = KubernetesObject> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export type WatchHandler = (type: WatchEventType, object: KubernetesObject) => void;

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** A watch: long-lived, on its own connection pool (see `watchAgent`). */
  watch?: boolean;
  /** The Accept header; JSON when unset. */
  accept?: string;
}

/** What a paged list selects, and how: see `KubeApi.listPage`. */
export interface PageQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  metadataOnly?: boolean;
}

export interface ApplyOptions {
  fieldManager: string;
  /** Take over fields other managers own. Off: a conflict means the object is not ours. */
  force?: boolean;
  dryRun?: boolean;
  /** How the server treats unknown or duplicate fields (the `fieldValidation` query); server default when unset. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

const REQUEST_TIMEOUT_MS = 30_000;
/** Objects per page of a paged list: a few hundred KB of records at most per answer. */
export const LIST_PAGE_SIZE = 500;

export class KubeApi {
  private readonly server: URL;
  private readonly agent: http.Agent;
  /**
   * Watches hold their connection for as long as they wait (HTTP/1.1: one stream per
   * connection, and aborting one closes it). In the request pool they would take its sockets:
   * at 64 waiting instances no apply or record write could go out until a pod turned ready.
   * So they get a pool of their own without a cap (the API server does not count watches
   * against its in-flight limits either).
   */
  private readonly watchAgent: http.Agent;
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();
  private readonly secureContexts = new SecureContextCache();

  /** `clusterName`: the cluster's name in CLUSTERS_FILE, for messages. */
  constructor(
    private readonly kc: KubeConfig,
    readonly clusterName?: string,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster: set KUBE_CONTEXT or the kubeconfig current-context');
    this.server = new URL(cluster.server);
    const tls = this.server.protocol === 'https:';
    this.agent = tls ? new https.Agent({ keepAlive: true, maxSockets: 64 }) : new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.watchAgent = tls ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  /** The cluster's API server URL, for messages. */
  get serverUrl(): string {
    return this.server.toString();
  }

  /** The cluster for messages: its API server URL and its name when it has one. */
  get where(): string {
    return this.clusterName ? `${this.serverUrl} (cluster ${this.clusterName})` : this.serverUrl;
  }

  // ---- generic requests -------------------------------------------------------------

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    throw KubeApiError.fromResponse(method, path, status, text, this.where);
  }

  /** A non-JSON endpoint (the API server's /metrics). */
  async text(path: string): Promise<string> {
    const res = await this.send('GET', path, {});
    const body = await readBody(res);
    if ((res.statusCode ?? 0) >= 300) throw KubeApiError.fromResponse('GET', path, res.statusCode ?? 0, body, this.where);
    return body;
  }

  private async send(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    // secureContext: not in https.RequestOptions' type, but the agent hands it to tls.connect.
    const options: https.RequestOptions & { secureContext?: SecureContext } = { method, headers: { Accept: opts.accept ?? 'application/json' } };
    // KubeConfig fills in TLS material and credentials (tokens may rotate, so on every request).
    await this.kc.applyToHTTPSOptions(options);
    // Aborted before it was sent (a watch loop closed meanwhile): its abort event has fired already.
    if (opts.signal?.aborted) throw new KubeUnavailableError(method, path, this.where, new Error('aborted'));
    if (url.protocol === 'https:') options.secureContext = this.secureContexts.for(options);
    // Our keep-alive agent instead of the one-shot agent KubeConfig makes; it pools
    // connections by the TLS material of the request options.
    options.agent = opts.watch ? this.watchAgent : this.agent;
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (body !== undefined) {
      // An explicit length: with a chunked DELETE body the API server leaves bytes on the
      // kept-alive connection, and the next request on it fails with 400.
      options.headers = {
        ...options.headers,
        'Content-Type': opts.contentType ?? 'application/json',
        'Content-Length': Buffer.byteLength(body),
      };
    }
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, options, resolve);
      req.setTimeout(opts.signal ? 0 : REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000}s`)));
      req.on('error', (err) => reject(new KubeUnavailableError(method, path, this.where, err)));
      const signal = opts.signal;
      if (signal) {
        // A long-lived signal (a watch loop's) outlives many requests: unhook each when it is done.
        const abort = () => req.destroy(new Error('aborted'));
        signal.addEventListener('abort', abort, { once: true });
        req.once('close', () => signal.removeEventListener('abort', abort));
      }
      req.end(body);
    });
  }

  // ---- discovery ----------------------------------------------------------------------

  /** Plural name and scope of a kind, from API discovery (cached per apiVersion). */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    let entry = this.discovery.get(apiVersion);
    if (!entry) {
      entry = this.discover(apiVersion);
      this.discovery.set(apiVersion, entry);
      entry.catch(() => this.discovery.delete(apiVersion));
    }
    const info = (await entry).get(kind);
    if (!info) {
      // A CRD installed after we looked: look once more before giving up.
      this.discovery.delete(apiVersion);
      const fresh = await this.resourceFresh(apiVersion, kind);
      if (fresh) return fresh;
      throw new KubeApiError(404, 'NotFound', `the cluster serves no kind ${kind} in ${apiVersion}`);
    }
    return info;
  }

  private async resourceFresh(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    const entry = this.discover(apiVersion);
    this.discovery.set(apiVersion, entry);
    return (await entry).get(kind);
  }

  private async discover(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    let list: { resources: { name: string; kind: string; namespaced: boolean }[] };
    try {
      list = await this.request('GET', base);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return new Map();
      throw err;
    }
    const kinds = new Map<string, ResourceInfo>();
    for (const r of list.resources) {
      if (!r.name.includes('/')) kinds.set(r.kind, { name: r.name, namespaced: r.namespaced });
    }
    return kinds;
  }

  /** URL path of a collection (no name) or of one object. */
  async path(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
    const info = await this.resource(apiVersion, kind);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${base}${ns}/${info.name}${name ? `/${encodeURIComponent(name)}` : ''}`;
  }

  // ---- objects --------------------------------------------------------------------------

  /** Server-side apply: creates or updates the fields this field manager owns. Idempotent. */
  async apply<T extends KubernetesObject>(obj: T, opts: ApplyOptions): Promise<T> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    return this.request<T>('PATCH', path, {
      body: obj,
      // JSON is YAML: the apply content type accepts it.
      contentType: 'application/apply-patch+yaml',
      query: {
        fieldManager: opts.fieldManager,
        force: opts.force ?? false,
        dryRun: opts.dryRun ? 'All' : undefined,
        fieldValidation: opts.fieldValidation,
      },
    });
  }

  async get<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', await this.path(apiVersion, kind, namespace, name));
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async create<T extends KubernetesObject>(obj: T, opts: { fieldManager: string }): Promise<T> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace);
    return this.request<T>('POST', path, { body: obj, query: { fieldManager: opts.fieldManager } });
  }

  /** A JSON merge patch (RFC 7386) of one object. */
  async mergePatch<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', await this.path(apiVersion, kind, namespace, name), { body: patch, contentType: 'application/merge-patch+json' });
  }

  /** Replace with optimistic concurrency: fails with 409 when metadata.resourceVersion is stale. */
  async replace<T extends KubernetesObject>(obj: T, opts: { fieldManager: string }): Promise<T> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    return this.request<T>('PUT', path, { body: obj, query: { fieldManager: opts.fieldManager } });
  }

  /**
   * Deletes one object; absent counts as deleted. Returns whether it existed. With `uid`, only
   * that object: one made since under the same name makes it fail with 409.
   */
  async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string, uid?: string): Promise<boolean> {
    try {
      const path = await this.path(apiVersion, kind, namespace, name);
      const preconditions = uid === undefined ? {} : { preconditions: { uid } };
      await this.request('DELETE', path, { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', ...preconditions } });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
  }

  /**
   * Deletes every object of a kind that matches the selector, in one request. Returns the objects
   * it deleted (the API server answers with their list), or undefined when the answer was a bare
   * Status and does not say. `Foreground`: each object stays, being deleted, until the garbage
   * collector has removed what it owns; `Background` (default): it goes at once, its dependents after.
   */
  async deleteCollection(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labelSelector: string,
    propagationPolicy: 'Background' | 'Foreground' = 'Background',
  ): Promise<KubernetesObject[] | undefined> {
    const path = await this.path(apiVersion, kind, namespace);
    const answer = await this.request<{ items?: KubernetesObject[] } | undefined>('DELETE', path, {
      query: { labelSelector },
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy },
    });
    return answer?.items;
  }

  async list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    query: { labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>('GET', await this.path(apiVersion, kind, namespace), { query });
  }

  /**
   * One page of a list (`limit`/`continue`). `metadataOnly`: each object's metadata without its
   * data (a PartialObjectMetadataList), for counting and selecting by label. A continue token that
   * expired (410 Gone, after about five minutes) fails; the caller starts again.
   */
  async listPage<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    query: PageQuery & { continue?: string | undefined },
  ): Promise<{ items: T[]; continue?: string; resourceVersion?: string }> {
    const { metadataOnly, limit = LIST_PAGE_SIZE, ...rest } = query;
    const accept = metadataOnly ? 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json' : undefined;
    const page = await this.request<ObjectList<T>>('GET', await this.path(apiVersion, kind, namespace), { query: { ...rest, limit }, accept });
    // An empty metadata-only list comes with `items: null`. Every page of one list carries the
    // resourceVersion of the snapshot it was read from: where a watch of its changes starts.
    const { continue: next, resourceVersion } = page.metadata;
    return { items: page.items ?? [], ...(next ? { continue: next } : {}), ...(resourceVersion ? { resourceVersion } : {}) };
  }

  /**
   * The objects of a kind one page at a time, so that neither the API server nor this process
   * holds a whole large collection in one answer.
   */
  async *pages<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string | undefined, query: PageQuery = {}): AsyncGenerator<T[]> {
    let next: string | undefined;
    do {
      const page: { items: T[]; continue?: string } = await this.listPage<T>(apiVersion, kind, namespace, { ...query, continue: next });
      yield page.items;
      next = page.continue;
    } while (next);
  }

  /** Every object of a kind, read page by page (see `pages`). */
  async listAll<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string | undefined, query: PageQuery = {}): Promise<T[]> {
    const items: T[] = [];
    for await (const page of this.pages<T>(apiVersion, kind, namespace, query)) items.push(...page);
    return items;
  }

  /**
   * Streams watch events until the server ends the watch, the signal aborts, or an error.
   * Without a resourceVersion the server first sends ADDED for every current object, so one
   * request gives both the state and its changes. `metadataOnly`: each event's object is its
   * metadata alone (a PartialObjectMetadata), for keeping labels without reading data.
   */
  async watch(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    query: { labelSelector?: string; resourceVersion?: string; timeoutSeconds?: number; metadataOnly?: boolean },
    onEvent: WatchHandler,
    signal: AbortSignal,
  ): Promise<void> {
    const { metadataOnly, ...rest } = query;
    const path = await this.path(apiVersion, kind, namespace);
    const accept = metadataOnly ? 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json' : undefined;
    const res = await this.send('GET', path, { query: { ...rest, watch: true, allowWatchBookmarks: true }, signal, watch: true, accept });
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw KubeApiError.fromResponse('GET', path, status, await readBody(res), this.where);
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          try {
            const event = JSON.parse(line) as { type: WatchEventType; object: KubernetesObject };
            if (event.type === 'ERROR') {
              const s = event.object as unknown as { code?: number; reason?: string; message?: string };
              throw new KubeApiError(s.code ?? 500, s.reason ?? 'WatchError', s.message ?? 'watch failed');
            }
            onEvent(event.type, event.object);
          } catch (err) {
            // A bad line or a handler that throws ends this watch (the caller decides what next),
            // instead of escaping as an uncaught exception from a stream listener.
            res.destroy();
            reject(err);
            return;
          }
        }
      });
      res.on('end', resolve);
      res.on('close', resolve);
      res.on('error', (err) => (signal.aborted ? resolve() : reject(new KubeUnavailableError('WATCH', path, this.where, err))));
    });
  }

  /** Closes pooled connections (tests, shutdown). */
  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
