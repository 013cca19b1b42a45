// Offerings added at runtime, stored durably: one ConfigMap per offering in the broker's namespace,
// labelled, its files as one JSON text. ConfigMaps, not Secrets: an offering is a catalog entry
// (like the files of CATALOG_DIR), and the API, which writes offerings, must not be able to write
// Secrets there (the instance and binding records). Passwords belong in `$random<N>` placeholders.
import { isObject } from '../../catalog/json.js';
import { createHash } from 'node:crypto';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';
import type { KubeApi, WatchEventType } from './api.js';
import { KubeApiError } from './errors.js';
import { FIELD_MANAGER, RECORD_LABEL } from './records.js';
import type { OfferingSource } from '../../catalog/offerings/body.js';
import type { OfferingFiles } from '../../catalog/offerings/files.js';

/** The server ends each watch of the offerings after this long; the loop goes on from its last event. */
export const OFFERING_WATCH_TIMEOUT_SECONDS = 300;
export const OFFERING_RECORD = 'offering';
export const OFFERING_SELECTOR = `${RECORD_LABEL}=${OFFERING_RECORD}`;
const SERVICE_ID_ANNOTATION = 'kubernetes-broker.io/service-id';
const SOURCE_ANNOTATION = 'kubernetes-broker.io/offering-source';
const ADDED_AT_ANNOTATION = 'kubernetes-broker.io/added-at';
const FILES_KEY = 'files.json';

/** How the offering was sent: a template folder, or the old broker's dynamicservice body. */

export interface StoredOffering {
  serviceId: string;
  files: OfferingFiles;
  /** sha256 of the files: equal digests, equal offerings. */
  digest: string;
  source: OfferingSource;
  addedAt: string;
  /** Of the ConfigMap, for optimistic replacement. */
  resourceVersion?: string;
}

interface ConfigMap extends KubernetesObject {
  data?: Record<string, string>;
}

/** A ConfigMap name for a service id: readable when the id is a DNS label, hashed otherwise. */
export function offeringObjectName(serviceId: string): string {
  const readable = /^[a-z0-9]([-a-z0-9]{0,49}[a-z0-9])?$/.test(serviceId);
  return `kb-offering-${readable ? serviceId : createHash('sha256').update(serviceId).digest('hex').slice(0, 40)}`;
}

/** Key order does not matter to the digest; the texts do. */
export function digestOf(files: OfferingFiles): string {
  const sorted = Object.keys(files)
    .sort()
    .map((k) => [k, files[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

export function storedOffering(serviceId: string, files: OfferingFiles, source: OfferingSource): StoredOffering {
  return { serviceId, files, digest: digestOf(files), source, addedAt: new Date().toISOString() };
}

export class OfferingStore {
  constructor(
    private readonly kube: KubeApi,
    readonly namespace: string,
  ) {}

  async list(): Promise<{ offerings: StoredOffering[]; resourceVersion?: string }> {
    const list = await this.kube.list<ConfigMap>('v1', 'ConfigMap', this.namespace, { labelSelector: OFFERING_SELECTOR });
    return {
      offerings: list.items.flatMap((o) => decode(o) ?? []),
      ...(list.metadata.resourceVersion ? { resourceVersion: list.metadata.resourceVersion } : {}),
    };
  }

  async get(serviceId: string): Promise<StoredOffering | undefined> {
    const o = await this.kube.get<ConfigMap>('v1', 'ConfigMap', this.namespace, offeringObjectName(serviceId));
    const stored = o ? decode(o) : undefined;
    return stored?.serviceId === serviceId ? stored : undefined;
  }

  /** Creates the ConfigMap; false when one exists already (another replica was faster). */
  async create(offering: StoredOffering): Promise<boolean> {
    try {
      await this.kube.create(this.encode(offering), { fieldManager: FIELD_MANAGER });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return false;
      throw err;
    }
  }

  /** Replaces the stored offering if it is still the version read (resourceVersion); false when it changed meanwhile. */
  async replace(offering: StoredOffering, resourceVersion: string): Promise<boolean> {
    const object = this.encode(offering);
    object.metadata.resourceVersion = resourceVersion;
    try {
      await this.kube.replace(object, { fieldManager: FIELD_MANAGER });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return false;
      throw err;
    }
  }

  async delete(serviceId: string): Promise<boolean> {
    return this.kube.delete('v1', 'ConfigMap', this.namespace, offeringObjectName(serviceId));
  }

  /** Watch events of the stored offerings from a resourceVersion on; ends when the server ends it (OFFERING_WATCH_TIMEOUT_SECONDS). */
  watch(
    resourceVersion: string | undefined,
    onEvent: (type: WatchEventType, serviceId: string | undefined, offering: StoredOffering | undefined, resourceVersion: string | undefined) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return this.kube.watch(
      'v1',
      'ConfigMap',
      this.namespace,
      { labelSelector: OFFERING_SELECTOR, ...(resourceVersion ? { resourceVersion } : {}), timeoutSeconds: OFFERING_WATCH_TIMEOUT_SECONDS },
      // Bookmarks carry only a resourceVersion: where to resume, so a long quiet watch need not relist.
      (type, object) =>
        onEvent(
          type,
          object.metadata.annotations?.[SERVICE_ID_ANNOTATION],
          type === 'BOOKMARK' ? undefined : decode(object),
          typeof object.metadata.resourceVersion === 'string' ? object.metadata.resourceVersion : undefined,
        ),
      signal,
    );
  }

  private encode(o: StoredOffering): ConfigMap {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: offeringObjectName(o.serviceId),
        namespace: this.namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [RECORD_LABEL]: OFFERING_RECORD },
        annotations: { [SERVICE_ID_ANNOTATION]: o.serviceId, [SOURCE_ANNOTATION]: o.source, [ADDED_AT_ANNOTATION]: o.addedAt },
      },
      data: { [FILES_KEY]: JSON.stringify(o.files) },
    };
  }
}

function decode(o: ConfigMap): StoredOffering | undefined {
  const serviceId = o.metadata.annotations?.[SERVICE_ID_ANNOTATION];
  const text = o.data?.[FILES_KEY];
  if (!serviceId || text === undefined) return undefined;
  let files: OfferingFiles;
  try {
    files = JSON.parse(text) as OfferingFiles;
  } catch {
    return undefined;
  }
  // Edited by hand or by another version: anything but { path: text } is not an offering.
  if (!isObject(files) || !Object.values(files).every((v) => typeof v === 'string')) return undefined;
  return {
    serviceId,
    files,
    digest: digestOf(files),
    source: o.metadata.annotations?.[SOURCE_ANNOTATION] === 'dynamicservice' ? 'dynamicservice' : 'files',
    addedAt: o.metadata.annotations?.[ADDED_AT_ANNOTATION] ?? '',
    ...(typeof o.metadata.resourceVersion === 'string' ? { resourceVersion: o.metadata.resourceVersion } : {}),
  };
}
