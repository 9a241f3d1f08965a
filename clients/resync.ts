import { loadConfig } from '../common/config';
import { prisonNumber as prisonNumberSchema } from '../common/contract';
import type { PrisonerSyncResult } from '../workflows/prisoner-sync';
import { connectClient, requestResync } from '../adapters/temporal';
import { switchesInForce } from '../adapters/live-switches';
import type { ResyncSource } from '../common/sync-switches';

// Operator command: resync prisoners now, e.g. to retry a failed resync once its cause is fixed. From the source
// the switches name (npm run switches) unless --from says which: nomis (DPS follows NOMIS) or dps (NOMIS follows).
//   node --import tsx clients/resync.ts A1234BC [B2345CD ...] [--from nomis|dps] [--no-wait]

const USAGE = 'usage: clients/resync.ts <prisonNumber> [...] [--from nomis|dps] [--no-wait]';

async function main(argv: string[]): Promise<void> {
  const wait = !argv.includes('--no-wait');
  const fromAt = argv.indexOf('--from');
  const from = fromAt >= 0 ? parseSource(argv[fromAt + 1]) : undefined;
  const prisonNumbers = argv.filter((a, i) => !a.startsWith('--') && (fromAt < 0 || i !== fromAt + 1));
  if (prisonNumbers.length === 0) throw new Error(USAGE);
  const bad = prisonNumbers.filter((p) => !prisonNumberSchema.safeParse(p).success);
  if (bad.length) throw new Error(`not prison numbers (like A1234BC): ${bad.join(', ')}`);

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

function parseSource(value: string | undefined): ResyncSource {
  const source = value?.toUpperCase();
  if (source !== 'NOMIS' && source !== 'DPS') throw new Error(`--from must be nomis or dps\n${USAGE}`);
  return source;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
