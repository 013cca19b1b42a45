// An offering's files checked exactly as a catalog directory: the catalog loader reads them from
// memory as the one service folder of a catalog, so every rule of docs/catalog-format.md applies
// and every problem comes back at once. Then what the loader cannot know: collisions with the
// file catalog and with the other offerings.
import { CatalogLoadError } from '../errors.js';
import { loadFrom, PLAN_FILE, SERVICE_FILE } from '../load.js';
import { memorySource } from '../read.js';
import type { CatalogProblem, ServiceOffering } from '../types.js';
import { OfferingRejected, type OfferingFiles } from './files.js';

/** The folder an offering's files are loaded under; problems are reported without it. */
const FOLDER = 'offering';

const strip = (p: CatalogProblem): CatalogProblem => ({
  ...p,
  file: p.file === FOLDER ? '.' : sentPath(p.file),
});

export interface LoadedOffering {
  service: ServiceOffering;
  warnings: CatalogProblem[];
}

/** Loads one offering; throws OfferingRejected (400) with every problem, files named as sent. */
export function loadOffering(files: OfferingFiles): LoadedOffering {
  if (files[SERVICE_FILE] === undefined) {
    const nested = Object.keys(files).filter((f) => f.endsWith(`/${SERVICE_FILE}`));
    throw new OfferingRejected(400, [
      {
        file: SERVICE_FILE,
        message: `is missing: send the files of one service folder, ${SERVICE_FILE} at the top${nested.length ? ` (found ${nested.join(', ')})` : ''}`,
      },
    ]);
  }
  const prefixed = Object.fromEntries(Object.entries(files).map(([file, text]) => [`${FOLDER}/${file}`, text]));
  try {
    const { catalog, warnings } = loadFrom(memorySource(prefixed), 'the offering');
    const service = catalog.services[0];
    if (!service) throw new OfferingRejected(400, [{ file: SERVICE_FILE, message: 'holds no service' }]);
    return { service, warnings: warnings.map(strip) };
  } catch (err) {
    if (err instanceof CatalogLoadError) throw new OfferingRejected(400, err.problems.map(strip));
    throw err;
  }
}

/**
 * Ids that are taken (service and plan ids share one space, as in a catalog) and service names,
 * by the other services: the file catalog's and the other offerings' (without the one it replaces).
 */
export function collisions(service: ServiceOffering, others: readonly ServiceOffering[], origin: (s: ServiceOffering) => string): CatalogProblem[] {
  const ids = new Map<string, string>();
  const names = new Map<string, string>();
  for (const s of others) {
    ids.set(s.id, `service ${s.name} (${origin(s)})`);
    names.set(s.name, `service ${s.id} (${origin(s)})`);
    for (const p of s.plans) ids.set(p.id, `plan ${p.name} of service ${s.name} (${origin(s)})`);
  }
  const problems: CatalogProblem[] = [];
  const owner = ids.get(service.id);
  if (owner) problems.push({ file: SERVICE_FILE, field: 'id', message: `${JSON.stringify(service.id)} is taken by ${owner}` });
  const named = names.get(service.name);
  if (named) problems.push({ file: SERVICE_FILE, field: 'name', message: `${JSON.stringify(service.name)} is the name of ${named}` });
  for (const p of service.plans) {
    const taken = ids.get(p.id);
    if (taken) problems.push({ file: `${sentPath(p.dir)}/${PLAN_FILE}`, field: 'id', message: `${JSON.stringify(p.id)} is taken by ${taken}` });
  }
  return problems;
}

/** A path of a loaded offering (`offering/small`) as it was sent (`small`). */
export const sentPath = (dir: string) => (dir.startsWith(`${FOLDER}/`) ? dir.slice(FOLDER.length + 1) : dir);
