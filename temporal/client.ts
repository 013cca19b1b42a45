// The API's Temporal client. Lazy: the API starts (and /readyz reports) even while Temporal
// is still coming up, and connects on first use.
import { Client, Connection } from '@temporalio/client';

export interface TemporalSettings {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
}

export function createTemporalClient(settings: TemporalSettings): { client: Client; connection: Connection } {
  const connection = Connection.lazy({ address: settings.TEMPORAL_ADDRESS });
  return { client: new Client({ connection, namespace: settings.TEMPORAL_NAMESPACE }), connection };
}
