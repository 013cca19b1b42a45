// The broker's search attributes (platform/temporal/search-attributes.ts, their one source) are
// created in its Temporal namespace by the worker at start: idempotent, and it adds only what is
// missing. Where the worker's identity may not (Temporal Cloud manages a namespace's attributes
// with tcld or its web UI; a self-hosted server may authorise only administrators), it stops
// naming what is missing and how to create it, rather than fail each operation later.
import type { NativeConnection } from '@temporalio/worker';
// A CommonJS module: its named exports are reachable through the default import only.
import proto from '@temporalio/proto';
import { ALL_SEARCH_ATTRIBUTES } from './search-attributes.js';

const KEYWORD = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

export class SearchAttributesMissing extends Error {
  override readonly name = 'SearchAttributesMissing';
}

/** The attributes missing in `namespace`, created; returns their names (empty: all were there). */
export async function ensureSearchAttributes(connection: Pick<NativeConnection, 'operatorService'>, namespace: string): Promise<string[]> {
  const existing = async () => Object.keys((await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {});
  const missing = (have: string[]) => ALL_SEARCH_ATTRIBUTES.map((a) => a.name).filter((name) => !have.includes(name));
  const wanted = missing(await existing());
  if (!wanted.length) return [];
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(wanted.map((name) => [name, KEYWORD])) });
  } catch (err) {
    // Another worker may have added them meanwhile (ALREADY_EXISTS): what counts is the list after.
    const still = missing(await existing());
    if (still.length) {
      const command = still.map((name) => `--name ${name} --type Keyword`).join(' ');
      throw new SearchAttributesMissing(
        `the Temporal namespace ${namespace} lacks the broker's search attributes ${still.join(', ')}, and creating them failed (${(err as Error).message}). ` +
          `Create them as an administrator: temporal operator search-attribute create --namespace ${namespace} ${command} (on Temporal Cloud: tcld namespace search-attributes add, or the Cloud UI), then start the worker again.`,
      );
    }
  }
  return wanted;
}
