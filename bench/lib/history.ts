// Where an operation's time goes, from its Temporal history: the API until the workflow starts,
// each activity's schedule-to-start (queueing in the task queue) and run time, the workflow
// tasks between activities, and the poll lag until the platform saw the result. Local activities
// (markers in the history) run inside a workflow task: their time is in the task's started →
// completed; they are counted by name.
import { Client, Connection } from '@temporalio/client';
import { stackEnv } from './common.js';

type Ts = { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined;
const ms = (t: Ts) => (t ? Number(typeof t.seconds === 'number' ? t.seconds : (t.seconds?.toNumber() ?? 0)) * 1000 + (t.nanos ?? 0) / 1e6 : NaN);

export interface Breakdown {
  /** PUT sent → WorkflowExecutionStarted (API: record read, workflow start). */
  api: number;
  /** Sum of workflow task time (between an activity's completion and the next one's scheduling, and at both ends). */
  workflowTasks: number;
  /** Of which: workflow tasks waiting for a worker's poll (scheduled → started). */
  workflowTaskQueue: number;
  /** Of which: started → completed (the worker's processing and the completion's round trip). */
  workflowTaskRun: number;
  /** Per activity type: schedule-to-start and start-to-close, ms. */
  activities: { name: string; queue: number; run: number }[];
  /** How many workflow tasks completed. */
  workflowTaskCount: number;
  /** How many workflow tasks timed out (their work, local steps included, is done again by the next one). */
  workflowTaskTimeouts: number;
  /** Local activities by type, in history order (their run time is inside workflowTaskRun). */
  localActivities: string[];
  /** WorkflowExecutionCompleted → the platform's last_operation saw it. */
  pollLag: number;
  total: number;
}

export class Histories {
  private constructor(
    private readonly client: Client,
    private readonly connection: Connection,
  ) {}

  static async connect(): Promise<Histories> {
    const connection = await Connection.connect({ address: stackEnv()['TEMPORAL_ADDRESS']! });
    return new Histories(new Client({ connection, namespace: stackEnv()['TEMPORAL_NAMESPACE'] ?? 'default' }), connection);
  }

  get temporal(): Client {
    return this.client;
  }

  /** Breakdown of the latest run of `workflowId`, given when the PUT was sent and when success was seen (epoch ms). */
  async breakdown(workflowId: string, putAt: number, seenAt: number): Promise<Breakdown> {
    const history = await this.client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const EV = (name: string) => events.filter((e) => String(e.eventType) === name || e.eventType === (EVENT_TYPES[name] as unknown));
    const started = ms(EV('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED')[0]?.eventTime);
    const completed = ms(EV('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED')[0]?.eventTime);
    const byId = new Map<number, { name: string; scheduled: number; started?: number; closed?: number }>();
    const wftAt = new Map<number, number>();
    let workflowTaskQueue = 0,
      workflowTaskRun = 0,
      workflowTaskCount = 0,
      workflowTaskTimeouts = 0;
    const localActivities: string[] = [];
    for (const e of events) {
      const t = ms(e.eventTime);
      if (e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes) wftAt.set(Number(e.eventId), t);
      const ws = e.workflowTaskStartedEventAttributes;
      if (ws) workflowTaskQueue += t - (wftAt.get(Number(ws.scheduledEventId)) ?? t);
      const wc = e.workflowTaskCompletedEventAttributes;
      if (wc) {
        workflowTaskRun += t - (wftAt.get(Number(wc.startedEventId)) ?? t);
        workflowTaskCount++;
      }
      if (e.workflowTaskTimedOutEventAttributes) workflowTaskTimeouts++;
      const marker = e.markerRecordedEventAttributes;
      if (marker?.markerName === 'core_local_activity') localActivities.push(localActivityType(marker.details?.['data']?.payloads?.[0]?.data));
      const a = e.activityTaskScheduledEventAttributes;
      if (a) byId.set(Number(e.eventId), { name: a.activityType?.name ?? '?', scheduled: t });
      const s = e.activityTaskStartedEventAttributes;
      if (s) byId.get(Number(s.scheduledEventId))!.started = t;
      const c = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      if (c) byId.get(Number(c.scheduledEventId))!.closed = t;
    }
    const activities = [...byId.values()].map((a) => ({ name: a.name, queue: (a.started ?? NaN) - a.scheduled, run: (a.closed ?? NaN) - (a.started ?? NaN) }));
    const inActivities = [...byId.values()].reduce((sum, a) => sum + ((a.closed ?? a.scheduled) - a.scheduled), 0);
    return {
      api: started - putAt,
      workflowTasks: completed - started - inActivities,
      workflowTaskQueue,
      workflowTaskRun,
      activities,
      workflowTaskCount,
      workflowTaskTimeouts,
      localActivities,
      pollLag: seenAt - completed,
      total: seenAt - putAt,
    };
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

/** The activity type in a local activity marker's data (JSON of the SDK core); '?' when unreadable. */
function localActivityType(data: Uint8Array | null | undefined): string {
  try {
    return (JSON.parse(Buffer.from(data ?? []).toString('utf8')) as { activity_type?: string }).activity_type ?? '?';
  } catch {
    return '?';
  }
}

// Numeric enum values of the event types used above (temporal.api.enums.v1.EventType).
const EVENT_TYPES: Record<string, number> = {
  EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: 1,
  EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: 2,
};
