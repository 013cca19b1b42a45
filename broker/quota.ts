// Instance quotas per organization (and cluster), checked before a provision starts.
import { exceededQuota, quotasFor, type ClustersConfig } from '../platform/config/clusters.js';
import type { RecordStore } from '../platform/kube/records.js';
import { quotaExceeded } from './errors.js';

/**
 * 422 QuotaExceeded when the organization has as many instances as a quota allows, counted from
 * the records of that organization alone (the API's watch-kept count, else a label-selected list of
 * their metadata: RecordStore.countedInstances). Not exact at the edge: provisions running at the same moment each count the
 * instances recorded before them (a record is written by the workflow's first step), so N
 * concurrent requests for the last free place can all pass. docs/clusters.md.
 */
export async function checkQuota(config: ClustersConfig, records: RecordStore, org: string, cluster: string): Promise<void> {
  if (quotasFor(config, org, cluster).length === 0) return;
  const exceeded = exceededQuota(config, { org, cluster }, await records.countedInstances(org));
  if (!exceeded) return;
  const { quota, count } = exceeded;
  const where = quota.cluster ? ` on cluster ${quota.cluster}` : '';
  throw quotaExceeded(
    `organization ${org} has ${count} service instance${count === 1 ? '' : 's'}${where}, and its quota allows ${quota.maxInstances}; ` +
      "delete an instance it no longer needs, or ask the broker's operator to raise the quota. Nothing was created.",
  );
}
