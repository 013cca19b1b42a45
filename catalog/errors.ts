// Errors of the catalog module. Both carry enough to tell an operator (load) or a client (render,
// answered with 400) exactly which file and which field is wrong.
import type { CatalogProblem } from './types.js';

/** `file[:line] [field]: message`, the one-line form used in messages and the CLI. */
export function formatProblem(p: CatalogProblem): string {
  return `${p.file}${p.line !== undefined ? `:${p.line}` : ''}${p.field ? ` ${p.field}` : ''}: ${p.message}`;
}

/** The catalog could not be loaded; nothing of it is used. */
export class CatalogLoadError extends Error {
  override readonly name = 'CatalogLoadError';
  constructor(readonly problems: CatalogProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** A template or mapping could not be filled for this instance (bad parameter, missing value...). */
export class RenderError extends Error {
  override readonly name = 'RenderError';
  constructor(
    /** What is wrong, without the file. */
    readonly detail: string,
    /** Template file relative to the catalog root, when one is to blame. */
    readonly file?: string,
  ) {
    super(file ? `${file}: ${detail}` : detail);
  }
}
