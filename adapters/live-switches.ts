import type { Db } from './db';
import { createDb, migrateLatest, readSyncSwitches } from './db';
import type { Config } from '../common/config';
import type { RecordedSyncSwitches, SyncSwitches } from '../common/sync-switches';

/** The switches in force for the configured deployment, read once (for operator commands). */
export async function switchesInForce(config: Config): Promise<RecordedSyncSwitches> {
  const db = createDb(config.postgres.url, { min: 0, max: 1 });
  try {
    await migrateLatest(db);
    return await readSyncSwitches(db, config.temporal.taskQueue, config.switches.defaults);
  } finally {
    await db.destroy();
  }
}

/**
 * The switches as a process reads them while it runs: from the database, at most `ttlMs` old, so a change made
 * with `npm run switches` reaches every worker and router within that time without a restart (the command waits
 * that long before it says the change is in force). If the database cannot be read, the last value read stays
 * in force (and the failure is reported) rather than stopping the sync; before any value was read, it throws.
 */
export class LiveSwitches {
  private last: { value: SyncSwitches; readAt: number } | undefined;
  private reading: Promise<SyncSwitches> | undefined;

  constructor(
    private readonly read: () => Promise<SyncSwitches>,
    readonly ttlMs: number,
    private readonly onReadFailure: (err: unknown) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  static fromDatabase(
    db: Db,
    scope: string,
    defaults: SyncSwitches,
    ttlMs: number,
    onReadFailure?: (err: unknown) => void,
  ): LiveSwitches {
    return new LiveSwitches(
      async () => {
        const { resyncSource, nomisToDps, dpsToNomis } = await readSyncSwitches(db, scope, defaults);
        return { resyncSource, nomisToDps, dpsToNomis };
      },
      ttlMs,
      onReadFailure,
    );
  }

  async get(): Promise<SyncSwitches> {
    if (this.last && this.now() - this.last.readAt < this.ttlMs) return this.last.value;
    // One read at a time, however many messages ask at once. Aged from when the read began: a read that began
    // before a change and ended after it must not count as fresh for a whole cache time after the change.
    const startedAt = this.now();
    this.reading ??= this.read()
      .then((value) => {
        this.last = { value, readAt: startedAt };
        return value;
      })
      .catch((err: unknown) => {
        if (!this.last) throw err;
        this.onReadFailure(err);
        return this.last.value;
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }
}
