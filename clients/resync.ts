import { loadConfig } from '../common/config';
import { prisonNumber as prisonNumberSchema } from '../common/contract';
import type { PrisonerSyncResult } from '../workflows/prisoner-sync';
import { connectClient, requestResync } from '../adapters/temporal';
import { switchesInForce } from '../adapters/live-switches';
import { parseCommandLine, resyncSourceOption, runCommand, UsageError } from '../common/cli-args';

// Operator command: resync prisoners now, e.g. to retry a failed resync once its cause is fixed. From the source
// the switches name (npm run switches) unless --from says which: nomis (DPS follows NOMIS) or dps (NOMIS follows).
//   node --import tsx clients/resync.ts A1234BC [B2345CD ...] [--from nomis|dps] [--no-wait]

const USAGE = `usage: npm run resync -- <prisonNumber> [...] [--from nomis|dps] [--no-wait]
  --from nomis|dps  which side the resync copies from (default: the resync source switched on, npm run switches)
  --no-wait         request the resyncs and exit without waiting for their results`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals: prisonNumbers } = parseCommandLine(
    argv,
    { from: { type: 'string' }, 'no-wait': { type: 'boolean' } },
    true,
  );
  const wait = !values['no-wait'];
  const from = values.from === undefined ? undefined : resyncSourceOption(values.from);
  if (prisonNumbers.length === 0) throw new UsageError('give at least one prison number');
  const bad = prisonNumbers.filter((p) => !prisonNumberSchema.safeParse(p).success);
  if (bad.length) throw new UsageError(`not prison numbers (like A1234BC): ${bad.join(', ')}`);

  const config = loadConfig();
  const source = from ?? (await switchesInForce(config)).resyncSource;
  const { client, close } = await connectClient(config);
  try {
    const handles = await Promise.all(
      prisonNumbers.map((prisonNumber) =>
        requestResync(
          client,
          config.temporal.taskQueue,
          prisonNumber,
          `requested by an operator (from ${source})`,
          source,
        ),
      ),
    );
    for (const handle of handles)
      console.log(
        `requested ${handle.workflowId}: ${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${handle.workflowId}`,
      );
    if (!wait) return;
    let failed = 0;
    for (const handle of handles) {
      try {
        const result: PrisonerSyncResult = await handle.result();
        const failure = result.failedResyncs.at(-1);
        if (failure) throw new Error(`${failure.workflowId} failed: ${failure.type ?? ''} ${failure.message}`);
        console.log(`${result.prisonNumber}: resynced, ${result.passes.at(-1)?.alertCount ?? 0} alerts`);
      } catch (err) {
        failed++;
        const cause = err instanceof Error && err.cause instanceof Error ? (err.cause.cause ?? err.cause) : err;
        console.error(`${handle.workflowId}: FAILED: ${cause instanceof Error ? cause.message : String(cause)}`);
      }
    }
    if (failed) process.exitCode = 1;
  } finally {
    await close();
  }
}

runCommand('resync', USAGE, () => main(process.argv.slice(2)));
