// The API's Temporal client. Lazy: the API starts (and /readyz reports) even while Temporal
// is still coming up, and connects on first use.
import { Client, Connection } from '@temporalio/client';
import { clientDataConverter } from './codec.js';

export interface TemporalSettings {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
  CODEC_KEYS?: string | undefined;
  CODEC_KEY_ID?: string | undefined;
}

export function createTemporalClient(settings: TemporalSettings): { client: Client; connection: Connection } {
  const connection = Connection.lazy({ address: settings.TEMPORAL_ADDRESS });
  const dataConverter = clientDataConverter(settings);
  return {
    client: new Client({ connection, namespace: settings.TEMPORAL_NAMESPACE, ...(dataConverter ? { dataConverter } : {}) }),
    connection,
  };
}
