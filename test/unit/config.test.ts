import { ConfigError, loadConfig } from '../../common/config';

describe('loadConfig', () => {
  test('defaults describe the local dev stack', () => {
    const config = loadConfig({});
    expect(config.temporal).toMatchObject({
      address: '127.0.0.1:7233',
      uiUrl: 'http://127.0.0.1:8233',
      namespace: 'default',
    });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.postgres).toEqual({
      port: 5433,
      url: 'postgres://postgres:postgres@127.0.0.1:5433/alerts_sync',
      embedded: true,
    });
  });

  test('ports move every derived address', () => {
    const config = loadConfig({
      TEMPORAL_PORT: '17233',
      TEMPORAL_UI_PORT: '18233',
      KAFKA_PORT: '19092',
      POSTGRES_PORT: '15433',
    });
    expect(config.temporal.address).toBe('127.0.0.1:17233');
    expect(config.temporal.uiUrl).toBe('http://127.0.0.1:18233');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(config.postgres.url).toContain(':15433/');
  });

  test('an explicit DATABASE_URL means an external server, not the embedded one', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://app:secret@db.internal:5432/alerts' });
    expect(config.postgres).toMatchObject({ url: 'postgres://app:secret@db.internal:5432/alerts', embedded: false });
  });

  test('a bad value is rejected with the name of the variable', () => {
    expect(() => loadConfig({ KAFKA_PORT: 'ninety' })).toThrow(ConfigError);
    expect(() => loadConfig({ KAFKA_PORT: 'ninety' })).toThrow('KAFKA_PORT must be a TCP port 1-65535, got "ninety"');
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  test("the worker's workflow cache is a setting, not the SDK's heap-derived default", () => {
    expect(loadConfig({}).cachedWorkflows).toBe(500);
    expect(loadConfig({ WORKER_CACHED_WORKFLOWS: '80' }).cachedWorkflows).toBe(80);
    expect(() => loadConfig({ WORKER_CACHED_WORKFLOWS: '0' })).toThrow(/WORKER_CACHED_WORKFLOWS/);
  });

  test("a batch's reports come grouped unless switched off for an upgrade", () => {
    expect(loadConfig({}).bulkReportsGrouped).toBe(true);
    expect(loadConfig({ BULK_REPORTS_GROUPED: 'off' }).bulkReportsGrouped).toBe(false);
    expect(() => loadConfig({ BULK_REPORTS_GROUPED: 'no' })).toThrow(/BULK_REPORTS_GROUPED must be on or off/);
  });
});
