// An offering as the admin API receives it, in either of its two forms, reduced to its files.
import { isObject } from '../json.js';
import { dynamicServiceFiles, isDynamicServiceBody } from './dynamic-service.js';
import { normalizeFiles, OfferingRejected, storedSizeProblem, type OfferingFiles } from './files.js';

/** How an offering was sent: its files, or the old broker's dynamicservice body. */
export type OfferingSource = 'files' | 'dynamicservice';

/** The files of either input form. */
export function offeringFiles(body: unknown): { files: OfferingFiles; source: OfferingSource } {
  if (isDynamicServiceBody(body)) {
    const files = dynamicServiceFiles(body);
    const tooLarge = storedSizeProblem(files);
    if (tooLarge) throw new OfferingRejected(400, [tooLarge]);
    return { files, source: 'dynamicservice' };
  }
  if (isObject(body) && 'files' in body) return { files: normalizeFiles(body.files), source: 'files' };
  throw new OfferingRejected(400, [
    {
      file: '.',
      message: 'send {"files": {"service.json": ..., "<plan>/plan.json": ..., "<plan>/k8s/...": ...}} or the old broker\'s {"dynamicService": {...}} body',
    },
  ]);
}
