import type { Duration } from '@temporalio/common';
import type { DriftedPrisoner } from '../activities/reconciliation';
import type { BulkResyncReport } from './bulk-resync';

// What a reconciliation is given and reports: shared by the bounded workflow (reconciliation.ts) and the one
// runs from before it replay (reconciliation-legacy.ts), which each import only this.

export interface ReconciliationInput {
  /** Start a resync of every prisoner still out of step after the recheck. */
  autoResync: boolean;
  /** Prisoners per NOMIS page, each page one activity. */
  pageSize: number;
  /** Mismatches are checked again after this long: a sync still in flight looks like drift for a moment. */
  recheckDelay: Duration;
  /** Only the prisoners at this prison; default every prisoner in prison. */
  prisonId?: string;
  /** Limits of the auto-resync batch. */
  resync: { concurrency: number; ratePerSecond: number };
  /** Pages per run before continuing as new (default 200). */
  pagesPerRun?: number;
  /** How many out-of-step prisoners are reported with what differs (default 100); all are named. */
  detailsKept?: number;
  /** Carried over by continue-as-new; absent on the first run. */
  state?: ReconciliationState;
}

export interface ReconciliationState {
  nextPage: number;
  pages: number;
  checked: number;
  /** Out of step at the first look. */
  firstLook: string[];
}

export interface ReconciliationReport {
  checked: number;
  /** Out of step at the first look and still at the recheck. */
  mismatched: number;
  /** What differs, for the first of them (detailsKept). */
  drifted: DriftedPrisoner[];
  /** Every prisoner out of step. */
  driftedPrisonNumbers: string[];
  /** Out of step at the first look but not at the recheck (syncs that were in flight). */
  settledOnRecheck: number;
  /** The auto-resync batch, when it ran. */
  resync?: BulkResyncReport;
}
