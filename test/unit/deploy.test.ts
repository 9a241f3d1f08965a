import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Config, ProductionNeed } from '../../common/config';
import { loadConfig, productionProblems } from '../../common/config';
import { chartWorkerMemoryEnv } from '../../infra/app-processes';

// The deployment artifacts, checked with the tools infra/provision-deploy-tools.sh installs: helm lints and renders
// the chart, kubernetes-validate checks every manifest against the Kubernetes schemas it ships (offline, strict:
// a misspelt field fails), hadolint lints the Dockerfile. Then what the manifests mean: probes, disruption
// budgets, security, and each process's environment read by common/config.ts itself.

const ROOT = path.resolve(__dirname, '..', '..');
const CHART = path.join(ROOT, 'deploy', 'helm', 'alerts-sync');
const HELM = path.join(ROOT, '.stack', 'bin', 'helm');
const KUBERNETES_VALIDATE = path.join(ROOT, '.stack', 'deploy-tools', 'bin', 'kubernetes-validate');
const HADOLINT = path.join(ROOT, '.stack', 'deploy-tools', 'bin', 'hadolint');
/** The oldest Kubernetes the chart declares (Chart.yaml kubeVersion) and the newest the validator ships. */
const KUBE_VERSIONS = ['1.25.0', '1.37.0'];

/** What each entry point asks of assertReadyForProduction (workers/main.ts, clients/event-router.ts, ...). */
const PROCESSES: Record<string, { entry: string; needs: ProductionNeed[] }> = {
  worker: { entry: 'workers/main.ts', needs: ['apis', 'database', 'encryption', 'temporal'] },
  router: { entry: 'clients/event-router.ts', needs: ['database', 'encryption', 'temporal', 'kafka'] },
  'codec-server': { entry: 'clients/codec-server.ts', needs: ['encryption', 'codecServer'] },
};

/** Credentials of the right shape, standing in for a Secret managed outside the chart. */
const SAMPLE_SECRETS: Record<string, string> = {
  DATABASE_URL: 'postgres://alerts_sync:pw@db.example.invalid:5432/alerts_sync',
  API_CLIENT_SECRET: 'a-real-looking-secret',
  PAYLOAD_ENCRYPTION_KEYS: `key-2025-01=${Buffer.alloc(32, 7).toString('base64')}`,
  TEMPORAL_API_KEY: 'api-key',
  KAFKA_SASL_PASSWORD: 'kafka-password',
  CODEC_SERVER_TOKEN: 'codec-token',
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args: string[];
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  ports?: Array<{ name: string; containerPort: number }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    containers: Container[];
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
    terminationGracePeriodSeconds?: number;
    automountServiceAccountToken?: boolean;
    enableServiceLinks?: boolean;
    volumes?: Array<{ name: string; emptyDir?: object; secret?: { secretName: string } }>;
  };
}
interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
}
interface Deployment extends Manifest {
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: PodTemplate };
}
interface PodDisruptionBudget extends Manifest {
  spec: { minAvailable?: number; selector: { matchLabels: Record<string, string> } };
}
interface Service extends Manifest {
  spec: { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string | number }> };
}
interface ConfigData extends Manifest {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

function run(command: string, args: string[], cwd = ROOT) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface Rendered {
  text: string;
  manifests: Manifest[];
}

function render(valuesFile?: string): Rendered {
  const values = valuesFile ? ['--values', path.join(CHART, valuesFile)] : [];
  const kubeVersion = KUBE_VERSIONS[KUBE_VERSIONS.length - 1]!;
  const { status, output } = run(HELM, ['template', 'alerts-sync', CHART, '--kube-version', kubeVersion, ...values]);
  if (status !== 0) throw new Error(`helm template failed:\n${output}`);
  const manifests = parseAllDocuments(output)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  return { text: output, manifests };
}

const ofKind = <T extends Manifest>(rendered: Rendered, kind: string): T[] =>
  rendered.manifests.filter((m) => m.kind === kind) as T[];

function one<T extends Manifest>(rendered: Rendered, kind: string, name: string): T {
  const found = ofKind<T>(rendered, kind).filter((m) => m.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0]!;
}

const deployment = (rendered: Rendered, component: string) =>
  one<Deployment>(rendered, 'Deployment', `alerts-sync-${component}`);

function container(rendered: Rendered, component: string): Container {
  const containers = deployment(rendered, component).spec.template.spec.containers;
  expect(containers).toHaveLength(1);
  return containers[0]!;
}

const secretKeys = (c: Container) =>
  (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []));

const literalEnv = (c: Container) =>
  Object.fromEntries((c.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));

/** The environment Kubernetes gives the container: its ConfigMap, then its own env (which wins), secrets filled. */
function processEnv(rendered: Rendered, component: string, secrets: Record<string, string>): Record<string, string> {
  const c = container(rendered, component);
  const env: Record<string, string> = {};
  for (const source of c.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (name) Object.assign(env, one<ConfigData>(rendered, 'ConfigMap', name).data);
  }
  Object.assign(env, literalEnv(c));
  for (const { key } of secretKeys(c)) {
    const value = secrets[key];
    if (value === undefined) throw new Error(`${component} reads ${key}, which the test has no value for`);
    env[key] = value;
  }
  // Nothing else: a value from the machine running the test must not make a broken manifest pass.
  return env;
}

function processConfig(rendered: Rendered, component: string, secrets: Record<string, string>) {
  const config: Config = loadConfig(processEnv(rendered, component, secrets));
  return { config, problems: productionProblems(config, PROCESSES[component]!.needs) };
}

/** The named port's number, so a probe on it can be compared with the port the process is told to serve. */
function portNumber(c: Container, port: string | number): number | undefined {
  return typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort;
}

function mountedFrom(rendered: Rendered, component: string, file: string): string | undefined {
  const pod = deployment(rendered, component).spec.template.spec;
  const mount = pod.containers[0]?.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`));
  return pod.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName;
}

const COMPONENTS = Object.keys(PROCESSES);
const VALUES_FILES: Array<[string, string | undefined]> = [
  ['its defaults', undefined],
  ['ci/mtls-scram-values.yaml', 'ci/mtls-scram-values.yaml'],
  ['ci/api-key-values.yaml', 'ci/api-key-values.yaml'],
];

beforeAll(() => {
  for (const tool of [HELM, KUBERNETES_VALIDATE, HADOLINT]) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: run bash infra/provision-deploy-tools.sh`);
  }
});

describe.each(VALUES_FILES)('the chart with %s', (_label, valuesFile) => {
  let rendered: Rendered;
  beforeAll(() => {
    rendered = render(valuesFile);
  });

  test('helm lint --strict passes (values.schema.json included)', () => {
    const values = valuesFile ? ['--values', path.join(CHART, valuesFile)] : [];
    const { status, output } = run(HELM, ['lint', '--strict', CHART, ...values]);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('0 chart(s) failed') });
  });

  test('every manifest validates against the Kubernetes schemas, strictly, on the oldest and newest versions', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'alerts-sync-chart-'));
    try {
      // A file, not stdin: the validator reads its input once per Kubernetes version.
      const file = path.join(dir, 'manifests.yaml');
      writeFileSync(file, rendered.text);
      const versions = KUBE_VERSIONS.flatMap((v) => ['-k', v]);
      const { status, output } = run(KUBERNETES_VALIDATE, ['--strict', ...versions, file]);
      expect({ status, problems: output.split('\n').filter((line) => /^(WARN|ERROR|FATAL)/.test(line)) }).toEqual({
        status: 0,
        problems: [],
      });
      // A kind without a schema is only a warning to the validator: every manifest must have been checked.
      const passed = output.split('\n').filter((line) => line.includes(' passed for resource ')).length;
      expect(passed).toBe(rendered.manifests.length * KUBE_VERSIONS.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each(COMPONENTS)('%s: common/config.ts accepts the environment the chart gives it', (component) => {
    expect(() => processConfig(rendered, component, SAMPLE_SECRETS)).not.toThrow();
  });

  test('a disruption budget of minAvailable 1 for each Deployment, selecting its pods and no others', () => {
    const deployments = ofKind<Deployment>(rendered, 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(COMPONENTS.map((c) => `alerts-sync-${c}`).sort());
    const budgets = ofKind<PodDisruptionBudget>(rendered, 'PodDisruptionBudget');
    expect(budgets).toHaveLength(deployments.length);
    for (const budget of budgets) {
      expect(budget.spec.minAvailable).toBe(1);
      const selected = deployments.filter((d) =>
        Object.entries(budget.spec.selector.matchLabels).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
      );
      expect(selected.map((d) => d.metadata.name)).toEqual([budget.metadata.name]);
      expect(selected[0]!.spec.replicas).toBeGreaterThan(1);
    }
  });

  test.each(COMPONENTS)('%s: non-root, read-only, no capabilities, no Kubernetes API token', (component) => {
    const pod = deployment(rendered, component).spec.template.spec;
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
    const c = container(rendered, component);
    expect(c.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    // The one writable place, since the root filesystem is not.
    const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    expect(c.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources?.limits?.memory).toEqual(expect.any(String));
  });

  test.each(COMPONENTS)('%s: credentials come from the Secret, never from the ConfigMap', (component) => {
    const env = literalEnv(container(rendered, component));
    const config = one<ConfigData>(rendered, 'ConfigMap', 'alerts-sync').data ?? {};
    for (const name of Object.keys(SAMPLE_SECRETS)) {
      expect(env[name]).toBeUndefined();
      expect(config[name]).toBeUndefined();
    }
    expect(config.NODE_ENV).toBe('production');
  });
});

describe('default values', () => {
  let rendered: Rendered;
  beforeAll(() => {
    rendered = render();
  });

  test('worker and router: liveness and readiness on the health port they are told to serve', () => {
    for (const [component, port] of [
      ['worker', 9464],
      ['router', 9465],
    ] as const) {
      const c = container(rendered, component);
      expect(literalEnv(c).HEALTH_PORT).toBe(String(port));
      expect(c.livenessProbe?.httpGet.path).toBe('/health/liveness');
      expect(c.startupProbe?.httpGet.path).toBe('/health/liveness');
      expect(c.readinessProbe?.httpGet.path).toBe('/health/readiness');
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
        expect(portNumber(c, probe!.httpGet.port)).toBe(port);
      }
      expect(deployment(rendered, component).spec.replicas).toBe(2);
    }
  });

  test('codec server: probed on its HTTP port, which its Service exposes', () => {
    const c = container(rendered, 'codec-server');
    expect(literalEnv(c).CODEC_SERVER_PORT).toBe('8888');
    expect(c.livenessProbe?.httpGet.path).toBe('/health/liveness');
    expect(portNumber(c, c.livenessProbe!.httpGet.port)).toBe(8888);
    const service = one<Service>(rendered, 'Service', 'alerts-sync-codec-server');
    expect(service.spec.ports).toEqual([expect.objectContaining({ port: 8888 })]);
    expect(portNumber(c, service.spec.ports[0]!.targetPort)).toBe(8888);
    const labels = deployment(rendered, 'codec-server').spec.template.metadata.labels;
    expect(Object.entries(service.spec.selector).every(([k, v]) => labels[k] === v)).toBe(true);
  });

  test('the worker gets longer to drain than its own shutdown grace, and that longer than the default 30 s', () => {
    const pod = deployment(rendered, 'worker').spec.template.spec;
    const grace = /^(\d+)s$/.exec(literalEnv(pod.containers[0]!).SHUTDOWN_GRACE ?? '');
    expect(grace).not.toBeNull();
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(grace![1]));
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30);
  });

  test("the worker's memory is set as the benchmark runs it, its V8 heap well inside the pod's limit", () => {
    const c = container(rendered, 'worker');
    const { NODE_OPTIONS, MALLOC_ARENA_MAX } = literalEnv(c);
    expect({ NODE_OPTIONS, MALLOC_ARENA_MAX }).toEqual(chartWorkerMemoryEnv());
    const heapMiB = Number(/^--max-old-space-size=(\d+)$/.exec(NODE_OPTIONS ?? '')?.[1]);
    // Two isolates (main and workflow thread) may each reach the limit, plus the Rust core and code.
    const limitMiB = Number(/^(\d+)Gi$/.exec(c.resources?.limits?.memory ?? '')?.[1]) * 1024;
    expect(2 * heapMiB + 200).toBeLessThan(limitMiB);
  });

  test('each process gets only the credentials it uses', () => {
    const keys = (component: string) =>
      secretKeys(container(rendered, component))
        .map((ref) => ref.key)
        .sort();
    expect(keys('worker')).toEqual(['API_CLIENT_SECRET', 'DATABASE_URL', 'PAYLOAD_ENCRYPTION_KEYS']);
    expect(keys('router')).toEqual(['DATABASE_URL', 'PAYLOAD_ENCRYPTION_KEYS']);
    expect(keys('codec-server')).toEqual(['CODEC_SERVER_TOKEN', 'PAYLOAD_ENCRYPTION_KEYS']);
    const secret = one<ConfigData>(rendered, 'Secret', 'alerts-sync');
    for (const component of COMPONENTS) {
      for (const ref of secretKeys(container(rendered, component))) {
        expect(ref.name).toBe('alerts-sync');
        expect(secret.stringData).toHaveProperty(ref.key);
      }
    }
  });

  test.each(COMPONENTS)('%s refuses to start until the Secret is filled in (NODE_ENV=production)', (component) => {
    const secret = one<ConfigData>(rendered, 'Secret', 'alerts-sync').stringData ?? {};
    expect(processConfig(rendered, component, secret).problems).not.toEqual([]);
    expect(processConfig(rendered, component, SAMPLE_SECRETS).problems).toEqual([]);
  });

  test('each process runs its own entry point of the one image, compiled by tsconfig.build.json', () => {
    const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const images = new Set<string>();
    for (const [component, { entry }] of Object.entries(PROCESSES)) {
      const c = container(rendered, component);
      images.add(c.image);
      expect(c.args).toEqual([`dist/${entry.replace(/\.ts$/, '.js')}`]);
      expect({ entry, exists: existsSync(path.join(ROOT, entry)) }).toEqual({ entry, exists: true });
      expect(build.include).toContain(entry.split('/')[0]);
    }
    expect(images.size).toBe(1);
  });
});

describe('mTLS to Temporal, Kafka over TLS with SCRAM, an existing Secret (ci/mtls-scram-values.yaml)', () => {
  let rendered: Rendered;
  beforeAll(() => {
    rendered = render('ci/mtls-scram-values.yaml');
  });

  test('no Secret is rendered: every credential comes from the existing one', () => {
    expect(ofKind(rendered, 'Secret')).toEqual([]);
    const refs = COMPONENTS.flatMap((component) => secretKeys(container(rendered, component)));
    expect(new Set(refs.map((ref) => ref.name))).toEqual(new Set(['alerts-sync-credentials']));
  });

  test('worker and router read the Temporal client certificate from the mounted Secret', () => {
    for (const component of ['worker', 'router']) {
      const { config, problems } = processConfig(rendered, component, SAMPLE_SECRETS);
      expect(problems).toEqual([]);
      const { tls } = config.temporal;
      expect(tls).toMatchObject({ enabled: true, serverName: 'temporal-frontend.temporal.svc.cluster.local' });
      for (const file of [tls.caPath, tls.certPath, tls.keyPath]) {
        expect(mountedFrom(rendered, component, file ?? '')).toBe('alerts-sync-temporal-mtls');
      }
    }
  });

  test('only the router gets the Kafka password and CA, and its config reads SCRAM over TLS', () => {
    const { config, problems } = processConfig(rendered, 'router', SAMPLE_SECRETS);
    expect(problems).toEqual([]);
    expect(config.kafka.sasl).toEqual({
      mechanism: 'scram-sha-512',
      username: 'alerts-sync',
      password: 'kafka-password',
    });
    expect(config.kafka.ssl.enabled).toBe(true);
    expect(mountedFrom(rendered, 'router', config.kafka.ssl.caPath ?? '')).toBe('alerts-sync-kafka-ca');
    for (const component of ['worker', 'codec-server']) {
      expect(secretKeys(container(rendered, component)).map((ref) => ref.key)).not.toContain('KAFKA_SASL_PASSWORD');
    }
  });

  test('the codec server, behind an Ingress, allows the Web UI origin; extra settings reach the processes', () => {
    const { config, problems } = processConfig(rendered, 'codec-server', SAMPLE_SECRETS);
    expect(problems).toEqual([]);
    expect(config.codecServer.corsOrigins).toEqual(['https://temporal-ui.example.invalid']);
    expect(ofKind(rendered, 'Ingress')).toHaveLength(1);
    expect(processConfig(rendered, 'worker', SAMPLE_SECRETS).config.apis.timeoutMs).toBe(15_000);
    expect(processConfig(rendered, 'worker', SAMPLE_SECRETS).config.encryption.keyId).toBe('key-2025-01');
  });
});

describe('Temporal API key, SASL/PLAIN, a chart-made Secret (ci/api-key-values.yaml)', () => {
  let rendered: Rendered;
  beforeAll(() => {
    rendered = render('ci/api-key-values.yaml');
  });

  test.each(COMPONENTS)('%s starts with the credentials of the Secret the chart made', (component) => {
    const secret = one<ConfigData>(rendered, 'Secret', 'alerts-sync').stringData ?? {};
    expect(processConfig(rendered, component, secret).problems).toEqual([]);
  });

  test('the API key goes to the processes that talk to Temporal, over TLS', () => {
    for (const component of ['worker', 'router']) {
      const { config } = processConfig(rendered, component, SAMPLE_SECRETS);
      expect(config.temporal.apiKey).toBe('api-key');
      expect(config.temporal.tls.enabled).toBe(true);
    }
    expect(secretKeys(container(rendered, 'codec-server')).map((ref) => ref.key)).not.toContain('TEMPORAL_API_KEY');
  });

  test('a switched-off direction (the default recorded at first start) and a per-process setting reach the router', () => {
    const { config } = processConfig(rendered, 'router', SAMPLE_SECRETS);
    expect(config.switches.defaults).toEqual({ resyncSource: 'NOMIS', nomisToDps: true, dpsToNomis: false });
    expect(config.logLevel).toBe('debug');
    expect(config.kafka.sasl?.mechanism).toBe('plain');
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

  test('hadolint finds nothing', () => {
    expect(run(HADOLINT, ['Dockerfile'])).toEqual({ status: 0, output: '' });
  });

  test('the image builds the workflow bundle and its processes start from it', () => {
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages.map((stage) => stage.split('\n')[0])).toEqual([
      expect.stringMatching(/ AS build$/),
      expect.stringMatching(/ AS runtime$/),
    ]);
    const bundlePath = (stage: string) => /WORKFLOW_BUNDLE_PATH=(\S+)/.exec(stage)?.[1];
    const [build, runtime] = [stages[0]!, stages[1]!];
    expect(build).toMatch(/npm run build:workflows/);
    expect(bundlePath(build)).toBeDefined();
    expect(bundlePath(runtime)).toBe(bundlePath(build));
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(runtime).toMatch(/^USER [1-9]\d*(:\d+)?$/m);
  });

  test('the worker entry point hands WORKFLOW_BUNDLE_PATH to the worker (else the image would bundle at start)', () => {
    expect(readFileSync(path.join(ROOT, 'workers', 'main.ts'), 'utf8')).toMatch(
      /workflowBundlePath: process\.env\.WORKFLOW_BUNDLE_PATH/,
    );
  });

  test('.dockerignore lets in everything the Dockerfile copies', () => {
    const allowed = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, ''));
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    expect(copied.length).toBeGreaterThan(0);
    expect(copied.filter((source) => !allowed.includes(source))).toEqual([]);
  });
});
