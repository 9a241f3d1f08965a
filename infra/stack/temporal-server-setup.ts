import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import type { Connection } from '@temporalio/client';
import { isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import pg from 'pg';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import type { SqlDatabase, TemporalServerSettings } from '../temporal-server';

// What the full Temporal server needs before it serves the sync: its databases and schemas, then the namespace and
// search attributes the dev server would have made from its flags.

/** Creates Temporal's databases if missing and brings both schemas to the versions shipped with the server. */
export async function setupSchema(settings: TemporalServerSettings, sqlTool: string, schemaDir: string): Promise<void> {
  const stores = [
    { db: settings.databases.default, versioned: path.join(schemaDir, 'temporal', 'versioned') },
    { db: settings.databases.visibility, versioned: path.join(schemaDir, 'visibility', 'versioned') },
  ];
  for (const { db, versioned } of stores) {
    if (!fs.existsSync(versioned))
      throw new Error(`Missing the Temporal schema (run infra/provision.sh): ${versioned}`);
    await createDatabaseIfMissing(db);
    const run = (args: string[]) =>
      promisify(execFile)(
        sqlTool,
        [
          '--plugin',
          'postgres12',
          '--endpoint',
          db.host,
          '--port',
          String(db.port),
          '--user',
          db.user,
          '--database',
          db.database,
          ...args,
        ],
        // The password goes by environment, not argv, where any `ps` would show it.
        { env: { ...process.env, SQL_PASSWORD: db.password } },
      ).catch((err: unknown) => {
        const output = err && typeof err === 'object' && 'stderr' in err ? String(err.stderr) : '';
        throw new Error(`temporal-sql-tool ${args[0]} on ${db.database} failed: ${String(err)}\n${output}`);
      });
    // Both are idempotent: setup only creates the version tables, update applies only the newer versions.
    await run(['setup-schema', '-v', '0.0']);
    await run(['update-schema', '-d', versioned]);
  }
}

async function createDatabaseIfMissing(db: SqlDatabase): Promise<void> {
  const client = new pg.Client({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `Temporal's database server ${db.host}:${db.port} is not reachable (is postgres up, or TEMPORAL_DATABASE_URL right?): ${String(err)}`,
    );
  }
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [db.database]);
    if (found.rowCount === 0) await client.query(`create database "${db.database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

const INDEXED_VALUE_TYPES: Record<(typeof SEARCH_ATTRIBUTES)[number]['type'], temporal.api.enums.v1.IndexedValueType> =
  {
    Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  };

/** Closed workflow histories are kept this long; enough to inspect a failed resync after a weekend. */
const NAMESPACE_RETENTION_DAYS = 3;

/**
 * What the dev server does from its flags: the namespace (the full server starts with none) and the search
 * attributes the workflows set. Idempotent, so it can run on every health check until both are in place.
 */
export async function registerNamespaceAndSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (!isGrpcServiceError(err) || err.code !== status.NOT_FOUND) throw err;
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(`${NAMESPACE_RETENTION_DAYS}d`),
      });
    } catch (registerErr) {
      // Another `up` got there first.
      if (!isGrpcServiceError(registerErr) || registerErr.code !== status.ALREADY_EXISTS) throw registerErr;
    }
  }
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((sa) => !(sa.name in (customAttributes ?? {})));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((sa) => [sa.name, INDEXED_VALUE_TYPES[sa.type]])),
    });
  }
}
