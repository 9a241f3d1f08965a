import { defineSearchAttributeKey } from '@temporalio/common';

// Registered on the dev server at start (infra) and set by workflows, so operators can filter in the Web UI.
export const PRISON_NUMBER = defineSearchAttributeKey('PrisonNumber', 'KEYWORD');
export const SYNC_KIND = defineSearchAttributeKey('SyncKind', 'KEYWORD');

export const SEARCH_ATTRIBUTES: ReadonlyArray<{ name: string; type: 'Keyword' }> = [
  { name: PRISON_NUMBER.name, type: 'Keyword' },
  { name: SYNC_KIND.name, type: 'Keyword' },
];
