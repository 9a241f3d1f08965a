import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../common/config';
import { readSetting } from './setting-files';

// The one place that knows how to reach Kafka: brokers, SSL and SASL (PLAIN / SCRAM), for the router, the
// simulators, the stack's health checks and the tests alike.

export function kafkaClient(
  config: Config,
  clientId: string,
  extra: Omit<KafkaConfig, 'brokers' | 'clientId' | 'ssl' | 'sasl'> = {},
): Kafka {
  return new Kafka({ logLevel: logLevel.ERROR, ...extra, ...kafkaConnectionOptions(config), clientId });
}

export function kafkaConnectionOptions(config: Config): Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl'> {
  const { ssl, sasl, brokers } = config.kafka;
  return {
    brokers,
    ssl: ssl.enabled
      ? {
          ca: ssl.caPath ? [readSetting(ssl.caPath, 'KAFKA_SSL_CA')] : undefined,
          cert: ssl.certPath ? readSetting(ssl.certPath, 'KAFKA_SSL_CERT') : undefined,
          key: ssl.keyPath ? readSetting(ssl.keyPath, 'KAFKA_SSL_KEY') : undefined,
        }
      : undefined,
    sasl: sasl && saslOptions(sasl),
  };
}

function saslOptions(sasl: NonNullable<Config['kafka']['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}
