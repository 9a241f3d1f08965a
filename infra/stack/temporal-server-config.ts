import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config';
import type { SqlDatabase, TemporalServerSettings } from '../temporal-server';

// The files the full Temporal server and its Web UI server read, generated from the stack's settings on every start.

/**
 * Ports from the frontend's: the dev (7233) and test (17233) stacks each take a block of ten, so they never meet.
 * Membership ports are ringpop's gossip between the services, here all in one process.
 */
export function serverPorts(frontend: number) {
  return {
    frontend,
    history: frontend + 1,
    matching: frontend + 2,
    worker: frontend + 3,
    membership: { frontend: frontend + 4, history: frontend + 5, matching: frontend + 6, worker: frontend + 7 },
    metrics: frontend + 8,
  };
}

/**
 * Keys as in go.temporal.io/server common/config/config.go (v1.31.2). Written as JSON, which is YAML too, so no
 * YAML library is needed and nothing in it can be misread as a template (`# enable-template`).
 */
export function serverConfig(config: Config, settings: TemporalServerSettings, dynamicConfigFile: string): object {
  const ports = serverPorts(config.temporal.port);
  const rpc = (grpcPort: number, membershipPort: number) => ({
    rpc: { grpcPort, membershipPort, bindOnIP: '127.0.0.1' },
  });
  const sql = (db: SqlDatabase, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: db.database,
      connectAddr: `${db.host}:${db.port}`,
      connectProtocol: 'tcp',
      user: db.user,
      password: db.password,
      // Every service in the process opens its own pools: four services at these sizes stay well inside
      // PostgreSQL's default 100 connections, beside the sync's own pool.
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const tls = settings.tls;
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: settings.historyShards,
      datastores: { default: sql(settings.databases.default, 10), visibility: sql(settings.databases.visibility, 5) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      pprof: { port: 0 },
      metrics: {
        prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${ports.metrics}` },
      },
      ...(tls && {
        tls: {
          // Internode traffic stays plaintext on 127.0.0.1; only the frontend, which clients reach, serves TLS.
          frontend: {
            server: {
              certFile: tls.certFile,
              keyFile: tls.keyFile,
              requireClientAuth: tls.requireClientAuth,
              clientCaFiles: [tls.caFile],
            },
          },
          // The server's own system workers (schedules, batch, deletes) are frontend clients like any other.
          systemWorker: {
            certFile: tls.clientCertFile,
            keyFile: tls.clientKeyFile,
            client: { serverName: tls.serverName, rootCaFiles: [tls.caFile] },
          },
        },
      }),
    },
    services: {
      frontend: rpc(ports.frontend, ports.membership.frontend),
      history: rpc(ports.history, ports.membership.history),
      matching: rpc(ports.matching, ports.membership.matching),
      worker: rpc(ports.worker, ports.membership.worker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '60s' },
  };
}

/**
 * Production defaults except where a one-host stack differs: visibility reads are capped at 10 per second per
 * namespace by default, which the Web UI's polling and the tests' waits would exceed (the dev server raises it too).
 * Eager workflow start is said explicitly, as for the dev server: a bulk batch starts its prisoners' workflows
 * eagerly (adapters/temporal.ts requestSync), and a server that refuses it only makes that a normal start.
 */
export const DYNAMIC_CONFIG = {
  'frontend.namespaceRPS.visibility': [{ value: 100 }],
  'system.enableEagerWorkflowStart': [{ value: true }],
};

/** Keys as in github.com/temporalio/ui-server server/config/config.go (v2.53.3). */
export function uiConfig(config: Config, settings: TemporalServerSettings): object {
  const tls = settings.tls;
  return {
    temporalGrpcAddress: `127.0.0.1:${config.temporal.port}`,
    host: '127.0.0.1',
    port: config.temporal.uiPort,
    enableUi: true,
    defaultNamespace: config.temporal.namespace,
    // Served over plain HTTP on this host: a Secure-only CSRF cookie would never come back.
    cors: { cookieInsecure: true },
    hideLogs: true,
    ...(tls && {
      tls: {
        caFile: tls.caFile,
        certFile: tls.clientCertFile,
        keyFile: tls.clientKeyFile,
        serverName: tls.serverName,
        enableHostVerification: true,
      },
    }),
    ...(settings.codecEndpoint && { codec: { endpoint: settings.codecEndpoint } }),
  };
}

export function writeConfigFile(file: string, content: object): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // It holds the database password.
  fs.writeFileSync(
    file,
    `# written by infra/stack/temporal-server-config.ts on every start\n${JSON.stringify(content, null, 2)}\n`,
    {
      mode: 0o600,
    },
  );
}
