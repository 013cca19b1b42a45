// The bounded wait behind last_operation's long poll and synchronous binds
// (broker/operation-state.ts waitForClose), against the real Temporal dev server: a run that is
// still going when the deadline passes answers 'running' (the client's deadline error is
// recognised, not thrown), a run that completes 'completed', one that closes another way 'closed'.
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedPolls, waitForClose } from '../../broker/operation-state.js';
import { stackEnv, suffix } from './helpers/stack.js';

let connection: Connection;
let client: Client;

beforeAll(async () => {
  connection = await Connection.connect({ address: stackEnv()['TEMPORAL_ADDRESS'] });
  client = new Client({ connection });
});
afterAll(async () => connection?.close());

const soon = (ms: number) => new Date(Date.now() + ms);

describe('waitForClose', () => {
  it("answers 'running' when the run is still going at the deadline, 'completed' once it completed", async () => {
    const taskQueue = `waits-${suffix()}`;
    // No worker polls this queue yet: the run stays RUNNING.
    const handle = await client.workflow.start('echo', { taskQueue, workflowId: `waits-${suffix()}`, args: ['hello'] });
    expect(await waitForClose(client, handle.workflowId, handle.firstExecutionRunId, soon(1000))).toBe('running');
    expect((await handle.describe()).status.name).toBe('RUNNING');

    const nativeConnection = await NativeConnection.connect({ address: stackEnv()['TEMPORAL_ADDRESS'] });
    try {
      const worker = await Worker.create({
        connection: nativeConnection,
        taskQueue,
        workflowsPath: fileURLToPath(new URL('./fixtures/echo-workflow.ts', import.meta.url)),
        activities: { shout: (text: string) => Promise.resolve(text.toUpperCase()) },
      });
      // Shared by concurrent callers; the worker completes the run meanwhile.
      const polls = new SharedPolls(client);
      const closed = await worker.runUntil(Promise.all([1, 2, 3].map(() => polls.waitForClose(handle.workflowId, handle.firstExecutionRunId, soon(60_000)))));
      expect(closed).toEqual(['completed', 'completed', 'completed']);
      expect((await handle.describe()).status.name).toBe('COMPLETED');
    } finally {
      await nativeConnection.close();
    }
  }, 90_000);

  it("answers 'closed' for a run that closed without completing (terminated)", async () => {
    const handle = await client.workflow.start('echo', { taskQueue: `waits-${suffix()}`, workflowId: `waits-${suffix()}`, args: ['hello'] });
    const waiting = waitForClose(client, handle.workflowId, handle.firstExecutionRunId, soon(60_000));
    await handle.terminate('test');
    expect(await waiting).toBe('closed');
  }, 90_000);
});
