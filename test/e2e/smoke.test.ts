import type { Client } from '@temporalio/client';
import type { Consumer, Producer } from 'kafkajs';
import { z } from 'zod';
import { createApiClients } from '../../adapters/clients';
import { findStackCheck } from '../../adapters/db';
import type { Db } from '../../adapters/db';
import { stackCheckWorkflowId } from '../../common/ids';
import { SYNC_KIND } from '../../common/search-attributes';
import { stackCheckWorkflow } from '../../workflows';
import { startTestWorker } from '../helpers/e2e';
import { config, eventually, kafka, migratedDb, temporalClient, uniqueSuffix } from '../helpers/stack';

// The whole pipe on the real stack: a Kafka message, produced to and consumed from the real broker, starts a
// workflow on a real Temporal server, whose activity writes a row to the real PostgreSQL.

const suffix = uniqueSuffix();
const taskQueue = `smoke-${suffix}`;
const topic = `alerts-sync.stack-check.${suffix}`;
const stackCheckEvent = z.object({ checkId: z.string().min(1), requestedBy: z.string().min(1) });

let db: Db;
let temporal: { client: Client; close: () => Promise<void> };
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let producer: Producer;
let consumer: Consumer;
const started: Array<Promise<unknown>> = [];

beforeAll(async () => {
  db = await migratedDb();
  temporal = await temporalClient();
  worker = await startTestWorker({
    taskQueue,
    deps: { db, ...createApiClients(config.apis), temporal: temporal.client },
  });

  const broker = kafka(`smoke-${suffix}`);
  const admin = broker.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();

  consumer = broker.consumer({ groupId: `smoke-${suffix}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const event = stackCheckEvent.parse(JSON.parse(message.value?.toString() ?? 'null'));
      const handle = await temporal.client.workflow.start(stackCheckWorkflow, {
        workflowId: stackCheckWorkflowId(event.checkId),
        taskQueue,
        args: [event],
        typedSearchAttributes: [{ key: SYNC_KIND, value: 'STACK_CHECK' }],
      });
      started.push(handle.result());
    },
  });
  producer = broker.producer();
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await consumer?.disconnect();
  await worker?.stop();
  await temporal?.close();
  await db?.destroy();
});

test('a Kafka event starts a workflow whose activity writes to PostgreSQL, findable by search attribute', async () => {
  const checkId = `check-${suffix}`;
  await producer.send({
    topic,
    messages: [{ key: checkId, value: JSON.stringify({ checkId, requestedBy: 'smoke-test' }) }],
  });

  const result = await eventually(async () => started[0], 'the consumer to start the workflow');
  expect(result).toMatchObject({ checkId, workflowId: stackCheckWorkflowId(checkId) });

  const row = await findStackCheck(db, checkId);
  expect(row).toMatchObject({ checkId, requestedBy: 'smoke-test' });

  // Visibility is eventually consistent: poll the same query the Web UI runs.
  const found = await eventually(async () => {
    const ids: string[] = [];
    for await (const execution of temporal.client.workflow.list({
      query: `SyncKind = "STACK_CHECK" AND WorkflowId = "${stackCheckWorkflowId(checkId)}"`,
    })) {
      ids.push(execution.workflowId);
    }
    return ids.length > 0 ? ids : undefined;
  }, 'the workflow to be visible by its SyncKind search attribute');
  expect(found).toEqual([stackCheckWorkflowId(checkId)]);
});
