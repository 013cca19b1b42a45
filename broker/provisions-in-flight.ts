// Provisions that Temporal runs for a service: accepted (202) but possibly not yet recorded, so a
// check of the records alone would miss them. Found through the search attributes every
// provision carries (KbService holds the service's name).
import type { Client } from '@temporalio/client';

/** The instance ids of running provisions of the service named `serviceName`. */
export async function provisionsInFlight(client: Client, serviceName: string): Promise<string[]> {
  const quoted = serviceName.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const ids: string[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowType = 'provisionInstance' AND ExecutionStatus = 'Running' AND KbService = '${quoted}'` })) {
    ids.push(String(run.searchAttributes?.['KbInstanceId']?.[0] ?? run.workflowId));
  }
  return ids;
}
