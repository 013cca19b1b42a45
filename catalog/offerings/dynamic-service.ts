// The old broker's `PUT /v2/dynamicservice` body, accepted as one input form of an offering:
//
//   { "dynamicService": { "serviceName", "planName", "isPlanFree", "containers": [<v1 Container>],
//     "servicePorts": [<v1 ServicePort>], "credentialMappings": {...} },
//     "organization_guid", "space_guid", "parameters", "updateBroker" }   (the last four are ignored)
//
// mapped to the files of a catalog service folder: one plan with a Deployment running the
// containers and a Service forwarding the ports (`port` to `targetPort`, or to the containerPort
// of the same number, as the old broker did). Ids are derived from the names, so adding the same
// body again gives the same ids. The old template also made a ServiceAccount per instance; the
// broker's worker may not create ServiceAccounts (least privilege), and pods need none of their own.
import { createHash } from 'node:crypto';
import type { CatalogProblem } from '../types.js';
import { OfferingRejected, type OfferingFiles } from './files.js';
import { isObject, type Json } from '../json.js';

/** Name-based (version 5) UUIDs of dynamic services live under this namespace. */
const ID_NAMESPACE = 'da65236a-84f8-404a-a5a5-c1365d034979';
export const PLAN_FOLDER = 'plan';
const WHERE = 'dynamicService';

export function isDynamicServiceBody(body: unknown): body is { dynamicService: unknown } {
  return isObject(body) && 'dynamicService' in body;
}

/** RFC 4122 version 5 UUID of a name: stable across adds, replicas and restarts. */
export function nameUuid(name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(ID_NAMESPACE.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const dynamicServiceId = (serviceName: string) => nameUuid(`service:${serviceName}`);
export const dynamicPlanId = (serviceName: string, planName: string) => nameUuid(`plan:${serviceName}/${planName}`);

/** Drops the empty values the old Go clients sent for unset fields (`"imagePullPolicy": ""`, `"targetPort": 0`). */
function withoutEmpty(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== '' && v !== 0 && v !== null && v !== undefined));
}

export function dynamicServiceFiles(body: { dynamicService: unknown }): OfferingFiles {
  const problems: CatalogProblem[] = [];
  const bad = (field: string, message: string) => problems.push({ file: WHERE, field, message });
  const d = body.dynamicService;
  if (!isObject(d)) throw new OfferingRejected(400, [{ file: WHERE, message: 'must be an object' }]);

  const nonEmpty = (key: string) => {
    const v = d[key];
    if (typeof v !== 'string' || v.trim() === '') bad(key, 'is required: a non-empty string');
    return typeof v === 'string' ? v : '';
  };
  const serviceName = nonEmpty('serviceName');
  const planName = nonEmpty('planName');
  if (d.isPlanFree !== undefined && typeof d.isPlanFree !== 'boolean') bad('isPlanFree', 'must be a boolean');

  const containers: Json[] = [];
  if (!Array.isArray(d.containers) || d.containers.length === 0) bad('containers', 'is required: a non-empty array of Kubernetes containers');
  else {
    d.containers.forEach((c, i) => {
      const field = `containers[${i}]`;
      if (!isObject(c)) return bad(field, 'must be a Kubernetes container (an object)');
      if (typeof c.name !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(c.name))
        bad(`${field}.name`, 'is required: a DNS label (lower-case letters, digits, -)');
      if (typeof c.image !== 'string' || c.image.trim() === '') bad(`${field}.image`, 'is required: a non-empty string');
      const container = withoutEmpty(c);
      if (Array.isArray(c.ports)) container.ports = c.ports.map((p: unknown) => (isObject(p) ? withoutEmpty(p) : p));
      if (Array.isArray(c.env)) container.env = c.env.map((e: unknown) => (isObject(e) && e.value === '' ? e : isObject(e) ? withoutEmpty(e) : e));
      if (isObject(c.resources) && Object.keys(c.resources).length === 0) delete container.resources;
      containers.push(container);
    });
  }

  const containerPorts = containers.flatMap((c): unknown[] => (Array.isArray(c.ports) ? c.ports : [])).filter(isObject);
  let servicePorts: Json[] = [];
  if (d.servicePorts !== undefined && d.servicePorts !== null && !Array.isArray(d.servicePorts))
    bad('servicePorts', 'must be an array of Kubernetes service ports');
  else if (Array.isArray(d.servicePorts) && d.servicePorts.length > 0) {
    d.servicePorts.forEach((p, i) => {
      if (!isObject(p) || !Number.isInteger(p.port) || (p.port as number) < 1 || (p.port as number) > 65535) {
        return bad(`servicePorts[${i}].port`, 'is required: a port number (1-65535)');
      }
      const port = p.port as number;
      servicePorts.push({
        name: typeof p.name === 'string' && p.name !== '' ? p.name : `port-${port}`,
        protocol: typeof p.protocol === 'string' && p.protocol !== '' ? p.protocol : 'TCP',
        port,
        targetPort: p.targetPort !== undefined && p.targetPort !== 0 && p.targetPort !== '' ? p.targetPort : port,
      });
    });
  } else {
    // No service ports: every container port, as itself.
    servicePorts = containerPorts.flatMap(({ containerPort: port, protocol }) =>
      typeof port === 'number' && Number.isInteger(port)
        ? [{ name: `port-${port}`, protocol: typeof protocol === 'string' ? protocol : 'TCP', port, targetPort: port }]
        : [],
    );
  }
  if (d.credentialMappings !== undefined && d.credentialMappings !== null && !isObject(d.credentialMappings)) bad('credentialMappings', 'must be an object');
  if (problems.length) throw new OfferingRejected(400, problems);

  const images = [...new Set(containers.map((c) => c.image as string))].join(', ');
  const files: OfferingFiles = {
    'service.json': json({
      id: dynamicServiceId(serviceName),
      name: serviceName,
      description: `${serviceName} (${images}), added at runtime`,
      bindable: true,
      plan_updateable: false,
      tags: ['dynamic'],
      metadata: { displayName: serviceName },
    }),
    [`${PLAN_FOLDER}/plan.json`]: json({
      id: dynamicPlanId(serviceName, planName),
      name: planName,
      description: `${planName} plan of ${serviceName}`,
      free: (d.isPlanFree as boolean | undefined) ?? true,
    }),
    [`${PLAN_FOLDER}/k8s/deployment.json`]: json({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: '$short_serviceid' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { service_id: '$service_id' } },
        template: { metadata: { labels: { service_id: '$service_id' } }, spec: { containers } },
      },
    }),
  };
  if (servicePorts.length) {
    files[`${PLAN_FOLDER}/k8s/service.json`] = json({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: '$short_serviceid' },
      spec: { selector: { service_id: '$service_id' }, ports: servicePorts },
    });
  }
  if (isObject(d.credentialMappings)) files[`${PLAN_FOLDER}/credentials-mappings.json`] = json(d.credentialMappings);
  return files;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
