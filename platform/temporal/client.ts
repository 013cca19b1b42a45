// The API's Temporal client. Lazy: the API starts (and /readyz reports) even while Temporal
// is still coming up, and connects on first use; checkTemporalAccess (access.ts) settles at start
// whether Temporal accepts its credentials.
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { TemporalConnection } from '../config/temporal-connection.js';
import { clientDataConverter } from './codec.js';

export interface TemporalSettings {
  temporal: TemporalConnection;
  CODEC_KEYS?: string | undefined;
  CODEC_KEY_ID?: string | undefined;
}

export function createTemporalClient(settings: TemporalSettings): { client: Client; connection: Connection } {
  const connection = Connection.lazy(settings.temporal.options);
  return { client: clientOn(settings, connection), connection };
}

/**
 * A client on the connection of a worker in this process (`serve --with-worker`, dev mode), for
 * eager workflow starts: the SDK reserves a workflow task slot of that worker, and when the server
 * hands the first workflow task back in the start's answer, gives it to the worker directly
 * instead of through the task queue. The connection stays the worker's: closing it is its job.
 */
export function createEagerStartClient(settings: TemporalSettings, workerConnection: NativeConnection): Client {
  return clientOn(settings, workerConnection);
}

function clientOn(settings: TemporalSettings, connection: Connection | NativeConnection): Client {
  const dataConverter = clientDataConverter(settings);
  return new Client({ connection, namespace: settings.temporal.namespace, ...(dataConverter ? { dataConverter } : {}) });
}
