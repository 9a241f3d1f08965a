import knex from 'knex';
import type { Knex } from 'knex';
import * as stackChecks from './migrations/001_stack_checks';
import * as alertMappings from './migrations/002_alert_mappings';
import * as bulkResyncItems from './migrations/003_bulk_resync_items';
import * as syncSwitches from './migrations/004_sync_switches';
import * as dropStackChecks from './migrations/005_drop_stack_checks';
import type { RecordedSyncSwitches, SyncSwitches } from '../common/sync-switches';
import { describeSwitches } from '../common/sync-switches';
import type { BulkResyncOutcomeRow } from '../workflows/messages';

// The one module that owns the database: connection, schema (knex migrations) and every query — a little over
// 300 lines, kept whole so that every SQL statement is in one place.

interface Migration {
  name: string;
  up: (knex: Knex) => Promise<void>;
  down: (knex: Knex) => Promise<void>;
}

// 001's table is dropped by 005, but 001 stays: knex refuses a database whose applied migrations it cannot find.
const MIGRATIONS: Migration[] = [stackChecks, alertMappings, bulkResyncItems, syncSwitches, dropStackChecks];

// Migrations are imported, not globbed from disk, so they run the same under tsx, jest and a bundle.
const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => migration,
};

export type Db = Knex;

export function createDb(url: string, pool: { min: number; max: number } = { min: 0, max: 10 }): Db {
  return knex({ client: 'pg', connection: url, pool });
}

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

// ---- alert mappings (contract §5) ----

export type MappingType = 'MIGRATED' | 'NOMIS_CREATED' | 'DPS_CREATED' | 'RESYNC';

export interface AlertMapping {
  dpsAlertId: string;
  nomisBookingId: number;
  nomisAlertSequence: number;
  offenderNo: string;
  mappingType: MappingType;
  createdAt: Date;
}

export type NewAlertMapping = Pick<AlertMapping, 'dpsAlertId' | 'nomisBookingId' | 'nomisAlertSequence'>;

interface MappingRow {
  dps_alert_id: string;
  nomis_booking_id: string | number;
  nomis_alert_sequence: number;
  offender_no: string;
  mapping_type: MappingType;
  created_at: Date;
}

function toMapping(row: MappingRow): AlertMapping {
  return {
    dpsAlertId: row.dps_alert_id,
    nomisBookingId: Number(row.nomis_booking_id),
    nomisAlertSequence: row.nomis_alert_sequence,
    offenderNo: row.offender_no,
    mappingType: row.mapping_type,
    createdAt: row.created_at,
  };
}

export interface ReplaceMappingsInput {
  offenderNo: string;
  mappings: NewAlertMapping[];
  mappingType: MappingType;
  /** Prisoners whose rows all go in the same transaction (the removed prisoner of a merge). */
  removeOffenderNos?: string[];
  /**
   * Rows of other prisoners that claim the same NOMIS alerts are taken over only when the caller has checked
   * with NOMIS that the alerts are this prisoner's now; otherwise the replace fails with MappingsClaimedError.
   */
  takeOverClaimed?: boolean;
}

/** Other prisoners' rows claim NOMIS alerts of a replace: whose they are now, only NOMIS can say. */
export class MappingsClaimedError extends Error {
  override name = 'MappingsClaimedError';
  constructor(readonly claimed: AlertMapping[]) {
    super(
      `NOMIS alerts ${claimed.map((m) => `${m.nomisBookingId}/${m.nomisAlertSequence} (${m.offenderNo})`).join(', ')} are mapped to other prisoners`,
    );
  }
}

/**
 * Replaces every mapping of one prisoner in one transaction (a resync; with removeOffenderNos, a merge).
 * Rows of other prisoners that claim the same NOMIS alert are either stale (a booking moved here, and NOMIS
 * says so now) or newer than the caller's read (a booking moved away after it read NOMIS): see takeOverClaimed.
 * A DPS alert belongs to one prisoner for ever, so other rows naming the same DPS alert are always stale.
 * Idempotent: replacing with the same set twice leaves the same rows.
 */
export async function replacePrisonerMappings(
  db: Db,
  input: ReplaceMappingsInput,
): Promise<{ deleted: number; inserted: number }> {
  return db.transaction(async (trx) => {
    const offenderNos = [input.offenderNo, ...(input.removeOffenderNos ?? [])];
    let deleted = await trx('alert_mappings').whereIn('offender_no', offenderNos).delete();
    if (input.mappings.length > 0 && !input.takeOverClaimed) {
      const claimed = await trx<MappingRow>('alert_mappings')
        .whereIn(
          ['nomis_booking_id', 'nomis_alert_sequence'],
          input.mappings.map((m) => [m.nomisBookingId, m.nomisAlertSequence]),
        )
        .forUpdate();
      if (claimed.length > 0) throw new MappingsClaimedError(claimed.map(toMapping));
    }
    if (input.mappings.length > 0) {
      deleted += await trx('alert_mappings')
        .whereIn(
          'dps_alert_id',
          input.mappings.map((m) => m.dpsAlertId),
        )
        .orWhereIn(
          ['nomis_booking_id', 'nomis_alert_sequence'],
          input.mappings.map((m) => [m.nomisBookingId, m.nomisAlertSequence]),
        )
        .delete();
      await trx('alert_mappings').insert(
        input.mappings.map((m) => ({
          dps_alert_id: m.dpsAlertId,
          nomis_booking_id: m.nomisBookingId,
          nomis_alert_sequence: m.nomisAlertSequence,
          offender_no: input.offenderNo,
          mapping_type: input.mappingType,
        })),
      );
    }
    return { deleted, inserted: input.mappings.length };
  });
}

export async function listPrisonerMappings(db: Db, offenderNo: string): Promise<AlertMapping[]> {
  const rows = await db<MappingRow>('alert_mappings')
    .where({ offender_no: offenderNo })
    .orderBy(['nomis_booking_id', 'nomis_alert_sequence']);
  return rows.map(toMapping);
}

/** Which of these DPS alerts have no mapping row. */
export async function findUnmappedDpsAlertIds(db: Db, dpsAlertIds: string[]): Promise<string[]> {
  if (dpsAlertIds.length === 0) return [];
  const mapped = await db('alert_mappings')
    .whereIn('dps_alert_id', dpsAlertIds)
    .select<Array<{ dps_alert_id: string }>>('dps_alert_id');
  const known = new Set(mapped.map((row) => row.dps_alert_id));
  return dpsAlertIds.filter((id) => !known.has(id));
}

export async function findMappingByDpsAlertId(db: Db, dpsAlertId: string): Promise<AlertMapping | undefined> {
  const row = await db<MappingRow>('alert_mappings').where({ dps_alert_id: dpsAlertId }).first();
  return row && toMapping(row);
}

export async function findMappingByNomisId(
  db: Db,
  nomisBookingId: number,
  nomisAlertSequence: number,
): Promise<AlertMapping | undefined> {
  const row = await db<MappingRow>('alert_mappings')
    .where({ nomis_booking_id: nomisBookingId, nomis_alert_sequence: nomisAlertSequence })
    .first();
  return row && toMapping(row);
}

/**
 * Records one synced pair. Idempotent: the same pair again is a no-op; a different pair claiming either side
 * is a conflict (an alert maps to exactly one alert on the other side).
 */
export async function createMapping(
  db: Db,
  mapping: NewAlertMapping & { offenderNo: string; mappingType: MappingType },
): Promise<'created' | 'exists'> {
  const inserted = await db('alert_mappings')
    .insert({
      dps_alert_id: mapping.dpsAlertId,
      nomis_booking_id: mapping.nomisBookingId,
      nomis_alert_sequence: mapping.nomisAlertSequence,
      offender_no: mapping.offenderNo,
      mapping_type: mapping.mappingType,
    })
    .onConflict()
    .ignore()
    .returning('dps_alert_id');
  if (inserted.length > 0) return 'created';
  const existing = await findMappingByDpsAlertId(db, mapping.dpsAlertId);
  if (
    existing?.nomisBookingId === mapping.nomisBookingId &&
    existing.nomisAlertSequence === mapping.nomisAlertSequence
  ) {
    return 'exists';
  }
  throw new MappingConflictError(
    `mapping ${mapping.nomisBookingId}/${mapping.nomisAlertSequence} <-> ${mapping.dpsAlertId} conflicts with an existing row`,
  );
}

export class MappingConflictError extends Error {
  override name = 'MappingConflictError';
}

/** Idempotent: deleting a row that is gone is done. */
export async function deleteMappingByDpsAlertId(db: Db, dpsAlertId: string): Promise<number> {
  return db('alert_mappings').where({ dps_alert_id: dpsAlertId }).delete();
}

// ---- bulk resync batches ----

/** Upsert by (batch, prisoner): recording the same outcome twice is harmless. */
export async function recordBulkResyncOutcomes(
  db: Db,
  batchId: string,
  outcomes: BulkResyncOutcomeRow[],
): Promise<void> {
  if (outcomes.length === 0) return;
  await db('bulk_resync_items')
    .insert(
      outcomes.map((o) => ({
        batch_id: batchId,
        prison_number: o.prisonNumber,
        status: o.status,
        failure: o.failure ?? null,
        finished_at: db.fn.now(),
      })),
    )
    .onConflict(['batch_id', 'prison_number'])
    .merge(['status', 'failure', 'finished_at']);
}

/** The prisoners of `prisonNumbers` an earlier run of the batch already resynced successfully. */
export async function findBulkResyncDone(db: Db, batchId: string, prisonNumbers: string[]): Promise<Set<string>> {
  const done = new Set<string>();
  // Chunked: a prison's worth of prisoners would exceed PostgreSQL's bind parameter limit in one IN list.
  for (let i = 0; i < prisonNumbers.length; i += 5_000) {
    const rows = await db('bulk_resync_items')
      .where({ batch_id: batchId, status: 'DONE' })
      .whereIn('prison_number', prisonNumbers.slice(i, i + 5_000))
      .select<Array<{ prison_number: string }>>('prison_number');
    for (const row of rows) done.add(row.prison_number);
  }
  return done;
}

/** Forgets a batch's outcomes: the next run does every prisoner again. */
export async function forgetBulkResync(db: Db, batchId: string): Promise<number> {
  return db('bulk_resync_items').where({ batch_id: batchId }).delete();
}

// ---- run-time switches (common/sync-switches.ts) ----

interface SwitchesRow {
  id: string;
  resync_source: string;
  nomis_to_dps: boolean;
  dps_to_nomis: boolean;
  changed_by: string;
  changed_at: Date;
  reason: string;
}

function toSwitches(row: SwitchesRow): RecordedSyncSwitches {
  if (row.resync_source !== 'DPS' && row.resync_source !== 'NOMIS') {
    throw new Error(`sync_switches row ${row.id}: resync_source is "${row.resync_source}", not NOMIS or DPS`);
  }
  return {
    resyncSource: row.resync_source,
    nomisToDps: row.nomis_to_dps,
    dpsToNomis: row.dps_to_nomis,
    changedBy: row.changed_by,
    changedAt: row.changed_at.toISOString(),
    reason: row.reason,
  };
}

/**
 * The switches in force for one deployment of the sync, named by its task queue (so two deployments sharing a
 * database, or two test harnesses, never flip each other's). The first reader records `defaults` (from the
 * environment) when none are recorded.
 */
export async function readSyncSwitches(db: Db, scope: string, defaults: SyncSwitches): Promise<RecordedSyncSwitches> {
  const row = await db<SwitchesRow>('sync_switches').where({ id: scope }).first();
  if (row) return toSwitches(row);
  await db('sync_switches')
    .insert({
      id: scope,
      resync_source: defaults.resyncSource,
      nomis_to_dps: defaults.nomisToDps,
      dps_to_nomis: defaults.dpsToNomis,
      changed_by: 'first start',
      reason: 'defaults from the environment (RESYNC_SOURCE, SYNC_NOMIS_TO_DPS, SYNC_DPS_TO_NOMIS)',
    })
    .onConflict('id')
    .ignore();
  return toSwitches(
    await db<SwitchesRow>('sync_switches')
      .where({ id: scope })
      .first()
      .then((r) => r!),
  );
}

/** Changes some switches and records who, when, why and what, in one transaction. */
export async function changeSyncSwitches(
  db: Db,
  scope: string,
  change: Partial<SyncSwitches>,
  by: { changedBy: string; reason: string },
  defaults: SyncSwitches,
): Promise<{ before: RecordedSyncSwitches; after: RecordedSyncSwitches }> {
  await readSyncSwitches(db, scope, defaults);
  return db.transaction(async (trx) => {
    const row = await trx<SwitchesRow>('sync_switches').where({ id: scope }).forUpdate().first();
    const before = toSwitches(row!);
    const next: SyncSwitches = {
      resyncSource: change.resyncSource ?? before.resyncSource,
      nomisToDps: change.nomisToDps ?? before.nomisToDps,
      dpsToNomis: change.dpsToNomis ?? before.dpsToNomis,
    };
    const [updated] = await trx<SwitchesRow>('sync_switches')
      .where({ id: scope })
      .update({
        resync_source: next.resyncSource,
        nomis_to_dps: next.nomisToDps,
        dps_to_nomis: next.dpsToNomis,
        changed_by: by.changedBy,
        changed_at: trx.fn.now() as unknown as Date,
        reason: by.reason,
      })
      .returning('*');
    await trx('sync_switch_changes').insert({
      scope,
      changed_by: by.changedBy,
      reason: by.reason,
      before: describeSwitches(before),
      after: describeSwitches(next),
    });
    return { before, after: toSwitches(updated!) };
  });
}

export interface SyncSwitchChange {
  changedAt: string;
  changedBy: string;
  reason: string;
  before: string;
  after: string;
}

/** The newest changes first. */
export async function listSyncSwitchChanges(db: Db, scope: string, limit = 20): Promise<SyncSwitchChange[]> {
  const rows = await db('sync_switch_changes')
    .where({ scope })
    .orderBy('id', 'desc')
    .limit(limit)
    .select<Array<{ changed_at: Date; changed_by: string; reason: string; before: string; after: string }>>('*');
  return rows.map((r) => ({
    changedAt: r.changed_at.toISOString(),
    changedBy: r.changed_by,
    reason: r.reason,
    before: r.before,
    after: r.after,
  }));
}
