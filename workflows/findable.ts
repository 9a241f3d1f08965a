import { upsertSearchAttributes } from '@temporalio/workflow';
import { PRISON_NUMBER, SYNC_KIND } from '../common/search-attributes';
import type { SyncKind } from '../common/sync-kinds';

/** The run's prisoner and kind as search attributes, so that operators can filter for it in the Web UI. */
export function makeFindable(prisonNumber: string, kind: SyncKind): void {
  upsertSearchAttributes([
    { key: PRISON_NUMBER, value: prisonNumber },
    { key: SYNC_KIND, value: kind },
  ]);
}
