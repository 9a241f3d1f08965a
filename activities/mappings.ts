import { ApplicationFailure, log } from '@temporalio/activity';
import type { AlertMapping, Db, MappingType, NewAlertMapping } from '../adapters/db';
import {
  createMapping,
  deleteMappingByDpsAlertId,
  findMappingByDpsAlertId,
  findMappingByNomisId,
  MappingConflictError,
  replacePrisonerMappings,
} from '../adapters/db';

/** Dates cross the activity boundary as JSON. */
export type MappingView = Omit<AlertMapping, 'createdAt'> & { createdAt: string };

function view(mapping: AlertMapping | undefined): MappingView | null {
  return mapping ? { ...mapping, createdAt: mapping.createdAt.toISOString() } : null;
}

export function createMappingActivities(deps: { db: Db }) {
  return {
    /** Idempotent: delete-and-insert of one prisoner's rows in one transaction. */
    async replaceMappings(input: {
      prisonNumber: string;
      mappings: NewAlertMapping[];
      mappingType: MappingType;
      removedPrisonNumbers?: string[];
    }): Promise<{ deleted: number; inserted: number }> {
      const result = await replacePrisonerMappings(deps.db, {
        offenderNo: input.prisonNumber,
        mappings: input.mappings,
        mappingType: input.mappingType,
        removeOffenderNos: input.removedPrisonNumbers,
      });
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
