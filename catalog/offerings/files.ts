// The files of an offering sent to the admin API: `{ "files": { "service.json": ..., "<plan>/plan.json":
// ..., "<plan>/k8s/...": ... } }`, paths relative to the service folder of the catalog layout.
// Checked and normalised to texts here; what they mean is checked by the catalog loader.
import { formatProblem } from '../errors.js';
import type { CatalogProblem } from '../types.js';

/** Path of a file relative to the offering's service folder → its text. */
export type OfferingFiles = Record<string, string>;

export const MAX_FILES = 500;
/** Stored in one ConfigMap (at most 1 MiB of data), with room for its metadata. */
export const MAX_TOTAL_BYTES = 900 * 1024;

/** Thrown for input that cannot become an offering; 400: invalid, 404: unknown, 409: collides with what exists. */
export class OfferingRejected extends Error {
  override readonly name = 'OfferingRejected';
  constructor(
    readonly status: 400 | 404 | 409,
    readonly problems: CatalogProblem[],
    summary = 'the offering was rejected',
  ) {
    super(`${summary}: ${problems.map(formatProblem).join('; ')}`);
  }
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Why a path cannot name a file of an offering, or undefined when it can. */
export function badPath(file: string): string | undefined {
  if (file === '') return 'is an empty path';
  if (file.length > 300) return 'is longer than 300 characters';
  const segments = file.split('/');
  if (segments.some((s) => s === '')) return 'must be a relative path without empty segments (no leading, trailing or double /)';
  if (segments.some((s) => s === '.' || s === '..')) return 'must not contain . or .. segments';
  if (segments.some((s) => !SEGMENT.test(s))) return 'segments must be letters, digits, ., _, - and not start with . or -';
  if (segments.length > 4) return 'is deeper than <plan>/hooks/<event>/<file>';
  return undefined;
}

/**
 * The `files` of a request as texts. A `.json` file may be sent as its JSON value instead of its
 * text; every other file (YAML, `uri_cluster_template`, a mapping with an unquoted `$nodes`) as text.
 */
export function normalizeFiles(input: unknown): OfferingFiles {
  const problems: CatalogProblem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new OfferingRejected(400, [{ file: '.', field: 'files', message: 'must be an object of file paths to file contents' }]);
  }
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > MAX_FILES) problems.push({ file: '.', field: 'files', message: `has ${entries.length} files; at most ${MAX_FILES}` });
  const files: OfferingFiles = {};
  for (const [file, value] of entries) {
    const pathProblem = badPath(file);
    if (pathProblem) {
      problems.push({ file, message: pathProblem });
      continue;
    }
    if (typeof value === 'string') files[file] = value;
    else if (/\.json$/i.test(file) && value !== undefined) files[file] = `${JSON.stringify(value, null, 2)}\n`;
    else {
      problems.push({ file, message: /\.json$/i.test(file) ? 'must be the file text or its JSON value' : 'must be the file text (a string)' });
      continue;
    }
  }
  const tooLarge = storedSizeProblem(files);
  if (tooLarge) problems.push(tooLarge);
  if (problems.length) throw new OfferingRejected(400, problems);
  return files;
}

/** An offering larger than one ConfigMap holds, as stored: one JSON text (escapes included). */
export function storedSizeProblem(files: OfferingFiles): CatalogProblem | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(files));
  if (bytes <= MAX_TOTAL_BYTES) return undefined;
  return { file: '.', field: 'files', message: `are ${bytes} bytes as stored (JSON); at most ${MAX_TOTAL_BYTES} (one ConfigMap holds an offering)` };
}
