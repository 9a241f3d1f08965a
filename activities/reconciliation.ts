import { Context, log } from '@temporalio/activity';
import type { Db } from '../adapters/db';
import type { DpsAlertsApiClient } from '../adapters/dps';
import type { NomisApiClient } from '../adapters/nomis';
import { ApiError } from '../adapters/http';
import { readInvariantViolations } from '../adapters/sync-check';
import { mapConcurrently } from '../common/concurrency';
import { classified, toActivityFailure } from './failures';

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
      const problems = await problemsOf(prisonNumber);
      Context.current().heartbeat(++checked);
      return { prisonNumber, problems: problems.slice(0, PROBLEMS_REPORTED) };
    });
    return checks.filter((c) => c.problems.length > 0);
  }

  /**
   * One prisoner whose data cannot be read (NOMIS or DPS breaks the contract for them) is reported as such:
   * failing the whole page would fail every run on them. Outages still fail the activity, to be retried.
   */
  async function problemsOf(prisonNumber: string): Promise<string[]> {
    try {
      return (await readInvariantViolations(deps, prisonNumber)).violations;
    } catch (err) {
      if (err instanceof ApiError && !err.retryable) return [`could not be checked: ${err.message}`];
      throw toActivityFailure(err);
    }
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

    /** Read-only: the same comparison for named prisoners (a recheck of earlier mismatches). Runs older than
     * recheckPrisoners call it. */
    async checkPrisoners(input: { prisonNumbers: string[] }): Promise<DriftedPrisoner[]> {
      return findDrifted(input.prisonNumbers);
    },

    /**
     * Read-only: the recheck of earlier mismatches, every one named but only the first `detailsKept` with what
     * differs, so the answer stays small for a whole estate.
     */
    async recheckPrisoners(input: {
      prisonNumbers: string[];
      detailsKept: number;
    }): Promise<{ drifted: string[]; details: DriftedPrisoner[] }> {
      const drifted = await findDrifted(input.prisonNumbers);
      return { drifted: drifted.map((d) => d.prisonNumber), details: drifted.slice(0, input.detailsKept) };
    },
  };
}
