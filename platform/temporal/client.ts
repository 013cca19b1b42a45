// The API's Temporal client. Lazy: the API starts (and /readyz reports) even while Temporal
// is still coming up, and connects on first use; checkTemporalAccess (access.ts) settles at start
// whether Temporal accepts its credentials.
import { Client, Connection } from '@temporalio/client';
import type { TemporalConnection } from '../config/temporal-connection.js';
import { clientDataConverter } from './codec.js';

export interface TemporalSettings {
  temporal: TemporalConnection;
  CODEC_KEYS?: string | undefined;
  CODEC_KEY_ID?: string | undefined;
}

export function createTemporalClient(settings: TemporalSettings): { client: Client; connection: Connection } {
  const connection = Connection.lazy(settings.temporal.options);
  const dataConverter = clientDataConverter(settings);
  return {
    client: new Client({ connection, namespace: settings.temporal.namespace, ...(dataConverter ? { dataConverter } : {}) }),
    connection,
  };
}
