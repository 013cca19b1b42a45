// Where the old broker's catalog is: it stays outside this repository (not ours to copy in), so
// its location is one setting, SEED_CATALOG_DIR, relative to the repository root unless absolute,
// by default `../shared/seed/catalogData` beside the clone. Tests that need it are skipped when it
// is absent and say so; test/fixtures/old-format-catalog (ours) covers the format's quirks always.
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../platform/config/paths.js';

const DEFAULT_SEED_CATALOG_DIR = '../shared/seed/catalogData';
const setting = process.env['SEED_CATALOG_DIR'];

export const SEED_CATALOG_DIR = path.resolve(PROJECT_ROOT, setting || DEFAULT_SEED_CATALOG_DIR);
export const SEED_CATALOG_PRESENT = fs.existsSync(path.join(SEED_CATALOG_DIR, 'mysql56/service.json'));

// Set on purpose but wrong, or required (CI has it beside the clone: .ci/run sets
// SEED_CATALOG_REQUIRED), is a mistake to report, not a reason to skip quietly.
if ((setting || process.env['SEED_CATALOG_REQUIRED'] === 'true') && !SEED_CATALOG_PRESENT) {
  throw new Error(
    `SEED_CATALOG_DIR=${setting}: no old broker catalog at ${SEED_CATALOG_DIR} (no mysql56/service.json); fix the path${setting ? ' or unset it' : ''}`,
  );
}

/** Appended to the name of a test that needs the seed catalog: empty when it runs. */
export const SEED_SKIP_NOTE = SEED_CATALOG_PRESENT ? '' : ` (skipped: the old broker's catalog is not at SEED_CATALOG_DIR=${SEED_CATALOG_DIR})`;

/** The seed catalog's directory, for a benchmark: it cannot run without it. */
export function requireSeedCatalog(): string {
  if (!SEED_CATALOG_PRESENT) {
    throw new Error(
      `the old broker's catalog is not at SEED_CATALOG_DIR=${SEED_CATALOG_DIR}: put it there or set SEED_CATALOG_DIR to its catalogData directory`,
    );
  }
  return SEED_CATALOG_DIR;
}

/** The repository's own small catalog in the old broker's format, with every quirk the tests rely on. */
export const OLD_FORMAT_CATALOG_DIR = path.join(PROJECT_ROOT, 'test/fixtures/old-format-catalog');
