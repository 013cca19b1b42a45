// GET /readyz: whether the broker's backends answer. The catalog is loaded before the API serves,
// so it is reported, not probed.
import type { Client } from '@temporalio/client';
import type { Catalog } from '../catalog/types.js';
import type { RecordStore } from '../platform/kube/records.js';
import { BrokerError } from './errors.js';

export async function probeReadiness(client: Client, records: RecordStore, catalog: Catalog): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = {};
  const probe = async (name: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      checks[name] = 'ok';
    } catch (err) {
      checks[name] = err instanceof BrokerError ? err.description : (err as Error).message;
    }
  };
  await Promise.all([probe('temporal', () => client.workflowService.getSystemInfo({})), probe('kubernetes', () => records.listBindings('readiness-probe'))]);
  checks['catalog'] = `${catalog.services.length} services`;
  return { ok: checks['temporal'] === 'ok' && checks['kubernetes'] === 'ok', checks };
}
