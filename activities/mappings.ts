import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { AlertMapping, Db, MappingType, NewAlertMapping } from '../adapters/db';
import {
  createMapping,
  deleteMappingByDpsAlertId,
  findMappingByDpsAlertId,
  findMappingByNomisId,
  MappingConflictError,
  MappingsClaimedError,
  replacePrisonerMappings,
} from '../adapters/db';
import type { NomisApiClient } from '../adapters/nomis';
import { orNullIfGone } from './failures';

/** Dates cross the activity boundary as JSON. */
export type MappingView = Omit<AlertMapping, 'createdAt'> & { createdAt: string };

function view(mapping: AlertMapping | undefined): MappingView | null {
  return mapping ? { ...mapping, createdAt: mapping.createdAt.toISOString() } : null;
}

// Longer than 80 lines as a whole: a factory of several activities sharing its dependencies, each one short.
export function createMappingActivities(deps: { db: Db; nomis: NomisApiClient }) {
  /** Whether every claimed NOMIS alert is on the prisoner's current booking now, by a fresh read. */
  async function nomisSaysTheyAreTheirs(prisonNumber: string, claimed: NewAlertMapping[]): Promise<boolean> {
    const now = await orNullIfGone(() =>
      deps.nomis.getAlertsToMigrate(prisonNumber, Context.current().cancellationSignal),
    );
    const current = new Set(now?.latestBookingAlerts.map((a) => `${a.bookingId}/${a.alertSequence}`));
    return claimed.every((m) => current.has(`${m.nomisBookingId}/${m.nomisAlertSequence}`));
  }

  return {
    /**
     * Idempotent: delete-and-insert of one prisoner's rows in one transaction. When another prisoner's rows
     * claim the same NOMIS alerts, NOMIS decides: alerts on this prisoner's current booking now are taken over;
     * otherwise this resync read NOMIS before a booking moved away and fails `StaleResyncRead`, to read again.
     */
    async replaceMappings(input: {
      prisonNumber: string;
      mappings: NewAlertMapping[];
      mappingType: MappingType;
      removedPrisonNumbers?: string[];
    }): Promise<{ deleted: number; inserted: number }> {
      const replace = (takeOverClaimed: boolean) =>
        replacePrisonerMappings(deps.db, {
          offenderNo: input.prisonNumber,
          mappings: input.mappings,
          mappingType: input.mappingType,
          removeOffenderNos: input.removedPrisonNumbers,
          takeOverClaimed,
        });
      let result: { deleted: number; inserted: number };
      try {
        result = await replace(false);
      } catch (err) {
        if (!(err instanceof MappingsClaimedError)) throw err;
        if (!(await nomisSaysTheyAreTheirs(input.prisonNumber, err.claimed))) {
          throw ApplicationFailure.nonRetryable(
            `${input.prisonNumber}: ${err.message}, and NOMIS no longer has them on this prisoner's current booking: the resync read NOMIS before they moved`,
            'StaleResyncRead',
          );
        }
        log.info('taking over mappings of alerts whose booking moved here', {
          prisonNumber: input.prisonNumber,
          from: [...new Set(err.claimed.map((m) => m.offenderNo))],
        });
        result = await replace(true);
      }
      log.info('replaced alert mappings', {
        prisonNumber: input.prisonNumber,
        ...result,
        removed: input.removedPrisonNumbers,
      });
      return result;
    },

    /** Idempotent: a read. */
    async findMappingByNomisAlert(input: { bookingId: number; alertSeq: number }): Promise<MappingView | null> {
      return view(await findMappingByNomisId(deps.db, input.bookingId, input.alertSeq));
    },

    /** Idempotent: a read. */
    async findMappingByDpsAlert(input: { dpsAlertId: string }): Promise<MappingView | null> {
      return view(await findMappingByDpsAlertId(deps.db, input.dpsAlertId));
    },

    /** Idempotent: inserting the same pair again is a no-op. */
    async createAlertMapping(
      input: NewAlertMapping & { prisonNumber: string; mappingType: MappingType },
    ): Promise<string> {
      try {
        const result = await createMapping(deps.db, { ...input, offenderNo: input.prisonNumber });
        log.info('alert mapping written', { prisonNumber: input.prisonNumber, result, dpsAlertId: input.dpsAlertId });
        return result;
      } catch (err) {
        if (err instanceof MappingConflictError) throw ApplicationFailure.nonRetryable(err.message, 'MappingConflict');
        throw err;
      }
    },

    /** Idempotent: delete-by-key. */
    async deleteAlertMapping(input: { prisonNumber: string; dpsAlertId: string }): Promise<number> {
      const deleted = await deleteMappingByDpsAlertId(deps.db, input.dpsAlertId);
      log.info('alert mapping deleted', { ...input, deleted });
      return deleted;
    },
  };
}
