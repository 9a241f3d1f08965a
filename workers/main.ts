import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createApiClients } from '../adapters/clients';
import { createDb, migrateLatest } from '../adapters/db';
import { connectClient, dataConverter, temporalConnectionOptions } from '../adapters/temporal';
import { assertReadyForProduction, loadConfig } from '../common/config';
import { createSyncWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  assertReadyForProduction(config, ['apis', 'database', 'encryption', 'temporal']);
  const level = config.logLevel.toUpperCase() as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  Runtime.install({ logger: new DefaultLogger(level) });
  const db = createDb(config.postgres.url);
  const applied = await migrateLatest(db);
  if (applied.length > 0) console.log(`database migrated: ${applied.join(', ')}`);
  const apis = createApiClients(config.apis);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  // Activities that queue resyncs on prisoners' workflows need a client as well as the worker's connection.
  const temporal = await connectClient(config);
  try {
    const worker = await createSyncWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      deps: {
        db,
        nomis: apis.nomis,
        dps: apis.dps,
        temporal: temporal.client,
        dpsToNomis: config.directions.dpsToNomis,
      },
      dataConverter: dataConverter(config),
      workflowBundlePath: process.env.WORKFLOW_BUNDLE_PATH,
    });
    console.log(`worker polling task queue ${config.temporal.taskQueue} on ${config.temporal.address}`);
    // run() resolves after SIGINT/SIGTERM once in-flight activities finished: a graceful shutdown.
    await worker.run();
  } finally {
    await connection.close();
    await temporal.close();
    await apis.close();
    await db.destroy();
  }
  console.log('worker stopped');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
