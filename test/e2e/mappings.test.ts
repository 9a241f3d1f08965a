import { randomUUID } from 'node:crypto';
import type { Db } from '../../adapters/db';
import {
  findMappingByDpsAlertId,
  findMappingByNomisId,
  listPrisonerMappings,
  MappingsClaimedError,
  replacePrisonerMappings,
} from '../../adapters/db';
import { migratedDb } from '../helpers/stack';
import { randomPrisonNumber } from '../helpers/prisoners';

// The mapping store on the real PostgreSQL (contract §5).

let db: Db;
beforeAll(async () => {
  db = await migratedDb();
});
afterAll(async () => {
  await db?.destroy();
});

const pair = (bookingId: number, seq: number) => ({
  dpsAlertId: randomUUID(),
  nomisBookingId: bookingId,
  nomisAlertSequence: seq,
});
const bookingId = () => 1_000_000 + Math.floor(Math.random() * 8_000_000);

test('replace swaps all rows of one prisoner and is idempotent', async () => {
  const prisonNumber = randomPrisonNumber();
  const booking = bookingId();
  await replacePrisonerMappings(db, {
    offenderNo: prisonNumber,
    mappingType: 'MIGRATED',
    mappings: [pair(booking, 1), pair(booking, 2)],
  });
  const next = [pair(booking + 1, 1)];
  await replacePrisonerMappings(db, { offenderNo: prisonNumber, mappingType: 'RESYNC', mappings: next });
  await replacePrisonerMappings(db, { offenderNo: prisonNumber, mappingType: 'RESYNC', mappings: next });
  const rows = await listPrisonerMappings(db, prisonNumber);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ ...next[0], offenderNo: prisonNumber, mappingType: 'RESYNC' });
  expect(await findMappingByDpsAlertId(db, next[0]!.dpsAlertId)).toMatchObject({ offenderNo: prisonNumber });
  expect(await findMappingByNomisId(db, booking + 1, 1)).toMatchObject({ dpsAlertId: next[0]!.dpsAlertId });
});

test('both sides are unique', async () => {
  const prisonNumber = randomPrisonNumber();
  const booking = bookingId();
  const first = pair(booking, 1);
  await replacePrisonerMappings(db, { offenderNo: prisonNumber, mappingType: 'RESYNC', mappings: [first] });
  await expect(
    db('alert_mappings').insert({
      dps_alert_id: randomUUID(),
      nomis_booking_id: booking,
      nomis_alert_sequence: 1,
      offender_no: prisonNumber,
      mapping_type: 'RESYNC',
    }),
  ).rejects.toThrow(/alert_mappings_nomis_id_unique/);
  await expect(
    db('alert_mappings').insert({
      dps_alert_id: first.dpsAlertId,
      nomis_booking_id: booking,
      nomis_alert_sequence: 2,
      offender_no: prisonNumber,
      mapping_type: 'RESYNC',
    }),
  ).rejects.toThrow(/duplicate key/);
});

test('a moved booking: rows of another prisoner naming the same NOMIS alert stop the replace unless taken over', async () => {
  const from = randomPrisonNumber();
  const to = randomPrisonNumber();
  const booking = bookingId();
  await replacePrisonerMappings(db, {
    offenderNo: from,
    mappingType: 'RESYNC',
    mappings: [pair(booking, 1), pair(booking + 1, 1)],
  });
  const moved = pair(booking, 1);
  // Whose the alert is now only NOMIS can say: without the caller's word, nothing changes.
  const refused = replacePrisonerMappings(db, { offenderNo: to, mappingType: 'RESYNC', mappings: [moved] });
  await expect(refused).rejects.toBeInstanceOf(MappingsClaimedError);
  await expect(refused).rejects.toMatchObject({ claimed: [{ offenderNo: from, nomisBookingId: booking }] });
  expect(await listPrisonerMappings(db, to)).toEqual([]);
  expect(await listPrisonerMappings(db, from)).toHaveLength(2);

  await replacePrisonerMappings(db, {
    offenderNo: to,
    mappingType: 'RESYNC',
    mappings: [moved],
    takeOverClaimed: true,
  });
  expect((await listPrisonerMappings(db, to)).map((m) => m.dpsAlertId)).toEqual([moved.dpsAlertId]);
  expect((await listPrisonerMappings(db, from)).map((m) => m.nomisBookingId)).toEqual([booking + 1]);
});

test('a merge replaces the retained prisoner and deletes the removed one in one transaction', async () => {
  const retained = randomPrisonNumber();
  const removed = randomPrisonNumber();
  await replacePrisonerMappings(db, { offenderNo: removed, mappingType: 'RESYNC', mappings: [pair(bookingId(), 1)] });
  await replacePrisonerMappings(db, {
    offenderNo: retained,
    mappingType: 'RESYNC',
    mappings: [pair(bookingId(), 1), pair(bookingId(), 2)],
    removeOffenderNos: [removed],
  });
  expect(await listPrisonerMappings(db, removed)).toEqual([]);
  expect(await listPrisonerMappings(db, retained)).toHaveLength(2);
});

test('a failed replace changes nothing', async () => {
  const prisonNumber = randomPrisonNumber();
  const original = [pair(bookingId(), 1)];
  await replacePrisonerMappings(db, { offenderNo: prisonNumber, mappingType: 'RESYNC', mappings: original });
  const dup = pair(bookingId(), 1);
  // The same DPS id twice in one set violates the primary key mid-transaction.
  await expect(
    replacePrisonerMappings(db, {
      offenderNo: prisonNumber,
      mappingType: 'RESYNC',
      mappings: [dup, { ...dup, nomisAlertSequence: 2 }],
    }),
  ).rejects.toThrow();
  expect((await listPrisonerMappings(db, prisonNumber)).map((m) => m.dpsAlertId)).toEqual([original[0]!.dpsAlertId]);
});
