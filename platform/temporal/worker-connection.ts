// The worker's connection to Temporal (the SDK's native one), checked at start like the API's:
// connecting calls GetSystemInfo once, then DescribeNamespace proves the credentials and the
// namespace; a failure stops the worker with what to fix instead of retrying in the logs.
import { NativeConnection } from '@temporalio/worker';
import type { TemporalConnection } from '../config/temporal-connection.js';
import { ACCESS_CHECK_MS, explainTemporalError, TemporalAccessError } from './access.js';

export async function connectWorker(temporal: TemporalConnection): Promise<NativeConnection> {
  const connection = await NativeConnection.connect(temporal.options).catch((err: unknown) => {
    throw new TemporalAccessError(explainTemporalError(err, temporal).message);
  });
  try {
    await connection.withDeadline(Date.now() + ACCESS_CHECK_MS, () => connection.workflowService.describeNamespace({ namespace: temporal.namespace }));
    return connection;
  } catch (err) {
    await connection.close();
    throw new TemporalAccessError(explainTemporalError(err, temporal).message);
  }
}
