import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@temporalio/worker';
import { bundleWorkflowCode } from '@temporalio/worker';
import { parseCommandLine, runCommand, UsageError } from '../common/cli-args';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from './worker';

// Bundles the workflows ahead of time, as Temporal's production sample does, for workers started with
// WORKFLOW_BUNDLE_PATH (the Dockerfile builds it; test/e2e/workflow-bundle.test.ts runs a worker from it).
// A pre-built bundle ignores the worker's `interceptors.workflowModules` and `dataConverter.payloadConverterPath`:
// a workflow interceptor or payload converter must be added to the bundleWorkflowCode call below as well. (The
// payload codec needs nothing here: codecs run outside the workflow sandbox.)

/** Where the bundle goes unless WORKFLOW_BUNDLE_PATH or an argument says otherwise; dist/ is git-ignored. */
const DEFAULT_BUNDLE_PATH = path.resolve(__dirname, '..', 'dist', 'workflow-bundle.js');

/**
 * Writes the bundle of every workflow in workflows/ to `codePath`; fails if workflow code imports a Node module.
 * `logger` takes webpack's report, which by default goes to stdout (where a benchmark prints its figures).
 */
export async function buildWorkflowBundle(
  codePath: string,
  logger?: Logger,
): Promise<{ codePath: string; bytes: number }> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger,
  });
  await mkdir(path.dirname(codePath), { recursive: true });
  await writeFile(codePath, code);
  return { codePath, bytes: Buffer.byteLength(code) };
}

const USAGE = `usage: npm run build:workflows -- [FILE]
  FILE: where the bundle goes (default WORKFLOW_BUNDLE_PATH, else dist/workflow-bundle.js)`;

if (require.main === module) {
  runCommand(
    'build:workflows',
    USAGE,
    async () => {
      const { positionals } = parseCommandLine(process.argv.slice(2), {}, true);
      if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
      const target = path.resolve(positionals[0] || process.env.WORKFLOW_BUNDLE_PATH || DEFAULT_BUNDLE_PATH);
      const { codePath, bytes } = await buildWorkflowBundle(target);
      console.log(`workflow bundle written to ${codePath} (${Math.round(bytes / 1024)} KiB)`);
    },
    { stack: true },
  );
}
