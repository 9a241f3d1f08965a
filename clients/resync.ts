import { loadConfig } from '../common/config';
import { prisonNumber as prisonNumberSchema } from '../common/contract';
import type { PrisonerSyncResult } from '../workflows/prisoner-sync';
import { connectClient, requestResync } from '../adapters/temporal';

// Operator command: resync prisoners now, e.g. to retry a failed resync once its cause is fixed.
//   node --import tsx clients/resync.ts A1234BC [B2345CD ...] [--no-wait]

async function main(argv: string[]): Promise<void> {
  const wait = !argv.includes('--no-wait');
  const prisonNumbers = argv.filter((a) => !a.startsWith('--'));
  if (prisonNumbers.length === 0) throw new Error('usage: clients/resync.ts <prisonNumber> [...] [--no-wait]');
  const bad = prisonNumbers.filter((p) => !prisonNumberSchema.safeParse(p).success);
  if (bad.length) throw new Error(`not prison numbers (like A1234BC): ${bad.join(', ')}`);

  const config = loadConfig();
  const { client, close } = await connectClient(config);
  try {
    const handles = await Promise.all(
      prisonNumbers.map((prisonNumber) =>
        requestResync(client, config.temporal.taskQueue, prisonNumber, 'requested by an operator'),
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

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
