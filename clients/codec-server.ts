import { AesGcmPayloadCodec } from '../adapters/payload-codec';
import { assertReadyForProduction, loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { createCodecServer } from './codec/server';

// The codec server as a process: the Web UI's codec endpoint (bin/start wires it; see README "Encryption").

async function main(): Promise<void> {
  const config = loadConfig();
  assertReadyForProduction(config, ['encryption', 'codecServer']);
  const logger = createLogger('codec-server', config.logLevel);
  const { keys, keyId } = config.encryption;
  const server = createCodecServer({
    codec: new AesGcmPayloadCodec(keys, keyId),
    corsOrigins: config.codecServer.corsOrigins,
    token: config.codecServer.token,
  });
  await new Promise<void>((resolve) => server.listen(config.codecServer.port, resolve));
  logger.info(
    `codec server on port ${config.codecServer.port}: keys ${keys.map((k) => k.id).join(', ')} (encrypting with ${keyId}), ` +
      `CORS ${config.codecServer.corsOrigins.join(', ')}, ${config.codecServer.token ? 'bearer token required' : 'no token (development)'}`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      logger.info(`${signal} received, closing`);
      server.close(() => process.exit(0));
    });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error && err.name === 'ConfigError' ? err.message : err);
  process.exit(1);
});
