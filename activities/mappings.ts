import { log } from '@temporalio/activity';
import type { Db, MappingType, NewAlertMapping } from '../adapters/db';
import { replacePrisonerMappings } from '../adapters/db';

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
  };
}
