import {
  alertDifferences,
  dpsAlertAsResyncAlert,
  dpsCreateFromNomis,
  dpsUpdateFromNomis,
  nomisCreateFromDps,
  nomisUpdateFromDps,
  toResyncAlert,
} from '../../common/alert-fields';
import type { DpsAlert, NomisAlert } from '../../common/contract';

// The one mapping between NOMIS's and DPS's alert fields: what the sync writes on one side, the invariant finds
// equal to what the other side holds.

const nomis: NomisAlert = {
  bookingId: 11,
  bookingSequence: 1,
  alertSequence: 3,
  alertCode: { code: 'XA', description: 'Arsonist' },
  type: { code: 'X', description: 'Security' },
  date: '2024-01-10',
  expiryDate: '2025-01-10',
  isActive: true,
  comment: 'lit a fire',
  authorisedBy: 'Governor',
  audit: {
    createUsername: 'NOMIS_USER',
    createDatetime: '2024-01-10T09:00:00',
    modifyUserId: 'EDITOR',
    modifyDatetime: '2024-02-01T10:00:00',
  },
};

/** DPS's alert as it would stand after taking `request`. */
function dpsFrom(request: ReturnType<typeof dpsCreateFromNomis>): DpsAlert {
  return {
    alertUuid: '00000000-0000-4000-8000-000000000001',
    prisonNumber: 'A1234BC',
    alertCode: { code: request.alertCode, description: request.alertCode },
    description: request.description,
    authorisedBy: request.authorisedBy,
    activeFrom: request.activeFrom,
    activeTo: request.activeTo,
    isActive: request.isActive ?? true,
    createdAt: request.createdAt,
    createdBy: request.createdBy,
    createdByDisplayName: request.createdByDisplayName,
  };
}

test('a NOMIS alert created in DPS, or resynced to it, is equal to it under the invariant', () => {
  const dps = dpsFrom(dpsCreateFromNomis(nomis));
  expect(alertDifferences(nomis, dps)).toEqual([]);
  const resynced = toResyncAlert(nomis);
  expect(resynced).toMatchObject({ offenderBookId: 11, alertSeq: 3, alertCode: 'XA', description: 'lit a fire' });
  expect(dpsAlertAsResyncAlert(dps, { bookingId: 11, alertSequence: 3 })).toMatchObject({
    activeFrom: resynced.activeFrom,
    activeTo: resynced.activeTo,
    isActive: resynced.isActive,
    description: resynced.description,
    authorisedBy: resynced.authorisedBy,
  });
  expect(dpsUpdateFromNomis(nomis)).toMatchObject({ description: 'lit a fire', updatedBy: 'EDITOR' });
});

test('a DPS alert written to NOMIS carries the same fields under NOMIS names', () => {
  const dps = dpsFrom(dpsCreateFromNomis(nomis));
  const create = nomisCreateFromDps(dps);
  expect(create).toEqual({
    alertCode: 'XA',
    date: '2024-01-10',
    isActive: true,
    expiryDate: '2025-01-10',
    comment: 'lit a fire',
    authorisedBy: 'Governor',
    createUsername: 'NOMIS_USER',
  });
  expect(nomisUpdateFromDps(dps)).toEqual({
    date: create.date,
    isActive: create.isActive,
    expiryDate: create.expiryDate,
    comment: create.comment,
    authorisedBy: create.authorisedBy,
    updateUsername: 'NOMIS_USER',
  });
});

test('the invariant names every synced field that differs, in order, with both values', () => {
  const dps: DpsAlert = {
    ...dpsFrom(dpsCreateFromNomis(nomis)),
    alertCode: { code: 'HA', description: 'HA' },
    activeFrom: '2024-01-11',
    activeTo: null,
    isActive: false,
    description: null,
    authorisedBy: 'Someone else',
  };
  expect(alertDifferences(nomis, dps)).toEqual([
    ['alertCode', 'XA', 'HA'],
    ['activeFrom', '2024-01-10', '2024-01-11'],
    ['activeTo', '2025-01-10', null],
    ['isActive', true, false],
    ['description', 'lit a fire', null],
    ['authorisedBy', 'Governor', 'Someone else'],
  ]);
});
