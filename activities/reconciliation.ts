import { Context, log } from '@temporalio/activity';
import type { Db } from '../adapters/db';
import type { DpsAlertsApiClient } from '../adapters/dps';
import type { NomisApiClient } from '../adapters/nomis';
import { readInvariantViolations } from '../adapters/sync-check';
import { mapConcurrently } from '../common/concurrency';
import { classified } from './failures';

export interface DriftedPrisoner {
  prisonNumber: string;
  /** What differs (contract §6), the first few lines. */
  problems: string[];
}

const CHECKS_IN_FLIGHT = 10;
const PROBLEMS_REPORTED = 5;

export function createReconciliationActivities(deps: { db: Db; nomis: NomisApiClient; dps: DpsAlertsApiClient }) {
  async function findDrifted(prisonNumbers: string[]): Promise<DriftedPrisoner[]> {
    let checked = 0;
    const checks = await mapConcurrently(prisonNumbers, CHECKS_IN_FLIGHT, async (prisonNumber) => {
      const { violations } = await classified(() => readInvariantViolations(deps, prisonNumber));
      Context.current().heartbeat(++checked);
      return { prisonNumber, problems: violations.slice(0, PROBLEMS_REPORTED) };
    });
    return checks.filter((c) => c.problems.length > 0);
  }

  return {
    /** Read-only: one page of NOMIS's active prisoners, each compared with DPS and the mapping table. */
    async checkPrisonerPage(input: {
      page: number;
      pageSize: number;
      prisonId?: string;
    }): Promise<{ totalPages: number; checked: number; drifted: DriftedPrisoner[] }> {
      const page = await classified(() =>
        deps.nomis.getActivePrisonerIds(
          { page: input.page, size: input.pageSize, prisonId: input.prisonId },
          Context.current().cancellationSignal,
        ),
      );
      const drifted = await findDrifted(page.content.map((p) => p.offenderNo));
      if (drifted.length > 0) log.info('prisoners out of sync', { page: input.page, drifted: drifted.length });
      return { totalPages: page.totalPages, checked: page.content.length, drifted };
    },

    /** Read-only: the same comparison for named prisoners (a recheck of earlier mismatches). */
    async checkPrisoners(input: { prisonNumbers: string[] }): Promise<DriftedPrisoner[]> {
      return findDrifted(input.prisonNumbers);
    },
  };
}
