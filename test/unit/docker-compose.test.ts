import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadConfig } from '../../common/config';
import { SEARCH_ATTRIBUTES } from '../../common/search-attributes';

// No Docker engine here, so the compose file cannot run in CI: instead it must agree with the scripts —
// same services, same env var names, same default ports, same search attributes.

const composeSchema = z.object({
  services: z.record(
    z.object({
      image: z.string(),
      ports: z.array(z.string()).optional(),
      command: z.array(z.string()).optional(),
    }),
  ),
});
const compose = composeSchema.parse(
  parse(fs.readFileSync(path.join(__dirname, '..', '..', 'docker-compose.temporal.yml'), 'utf8')),
);
const defaults = loadConfig({});

/** '${KAFKA_PORT:-9092}:9092' -> { variable: 'KAFKA_PORT', hostDefault: 9092, container: 9092 } */
function publishedPort(service: string) {
  const ports = compose.services[service]?.ports ?? [];
  expect(ports).toHaveLength(1);
  const match = /^\$\{([A-Z_]+):-(\d+)\}:(\d+)$/.exec(ports[0] ?? '');
  if (!match) throw new Error(`service ${service}: port "${ports[0]}" is not of the form \${VAR:-default}:port`);
  return { variable: match[1], hostDefault: Number(match[2]), container: Number(match[3]) };
}

test('has the services the scripts start', () => {
  expect(Object.keys(compose.services).sort()).toEqual(
    ['kafka', 'postgresql', 'temporal', 'temporal-admin-tools', 'temporal-setup', 'temporal-ui'].sort(),
  );
  expect(compose.services.kafka?.image).toMatch(/^apache\/kafka:4\./);
  expect(compose.services['temporal-admin-tools']?.image).toMatch(/^temporalio\/admin-tools:/);
});

test.each([
  ['temporal', 'TEMPORAL_PORT', defaults.temporal.port],
  ['temporal-ui', 'TEMPORAL_UI_PORT', defaults.temporal.uiPort],
  ['kafka', 'KAFKA_PORT', defaults.kafka.port],
  ['postgresql', 'POSTGRES_PORT', defaults.postgres.port],
])('%s publishes ${%s} with the scripts default', (service, variable, port) => {
  expect(publishedPort(service)).toMatchObject({ variable, hostDefault: port });
});

test('registers the search attributes the dev server registers', () => {
  const script = compose.services['temporal-setup']?.command?.join('\n') ?? '';
  for (const attribute of SEARCH_ATTRIBUTES) expect(script).toContain(attribute.name);
  expect(script).toContain('--type Keyword');
});

test('the app database name matches the default DATABASE_URL', () => {
  const raw = fs.readFileSync(path.join(__dirname, '..', '..', 'docker-compose.temporal.yml'), 'utf8');
  const database = new URL(defaults.postgres.url).pathname.slice(1);
  expect(raw).toContain(`POSTGRES_DB: ${database}`);
});
