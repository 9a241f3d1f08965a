import { routeMessage } from '../../clients/router/route';

const topics = { offenderEvents: 'nomis.offender-events', domainEvents: 'hmpps.domain-events' };
const options = { topics, switches: { resyncSource: 'NOMIS' as const, nomisToDps: true, dpsToNomis: true } };
const at = { partition: 0, offset: '42' };
const domain = (event: object) => routeMessage(options, topics.domainEvents, Buffer.from(JSON.stringify(event)), at);
const nomis = (event: object) => routeMessage(options, topics.offenderEvents, Buffer.from(JSON.stringify(event)), at);
const envelope = (eventType: string, additionalInformation: object) => ({
  eventType,
  version: 1,
  occurredAt: '2024-06-20T10:15:30+01:00',
  description: 'x',
  additionalInformation,
  personReference: { identifiers: [{ type: 'NOMS', value: 'A1234BC' }] },
});

describe('prisoner-level events become resync requests', () => {
  test('merge resyncs each side in its own queue; the removed side may be unknown to NOMIS', () => {
    const decision = domain(
      envelope('prison-offender-events.prisoner.merged', {
        nomsNumber: 'A1234BC',
        removedNomsNumber: 'B2345CD',
        bookingId: 1203456,
        reason: 'MERGE',
      }),
    );
    expect(decision).toMatchObject({
      action: 'sync',
      targets: [
        { prisonNumber: 'A1234BC', request: { kind: 'resync', removedPrisonNumber: 'B2345CD' } },
        { prisonNumber: 'B2345CD', request: { kind: 'resync', bookingsMovedAway: true } },
      ],
    });
    expect(decision.action === 'sync' && decision.targets[0]?.request).not.toHaveProperty('bookingsMovedAway');
  });

  test('a merge of a prisoner into itself is dead-lettered, never a wipe of a live prisoner', () => {
    const decision = domain(
      envelope('prison-offender-events.prisoner.merged', {
        nomsNumber: 'A1234BC',
        removedNomsNumber: 'A1234BC',
        reason: 'MERGE',
      }),
    );
    expect(decision).toMatchObject({ action: 'dead-letter', reason: expect.stringContaining('removedNomsNumber') });
  });

  test('booking moved: only the prisoner it moved from may have no booking left', () => {
    const decision = domain(
      envelope('prison-offender-events.prisoner.booking.moved', {
        bookingId: 1203456,
        movedFromNomsNumber: 'A1234BC',
        movedToNomsNumber: 'B2345CD',
      }),
    );
    expect(decision).toMatchObject({
      action: 'sync',
      targets: [
        { prisonNumber: 'A1234BC', request: { bookingsMovedAway: true } },
        { prisonNumber: 'B2345CD', request: { kind: 'resync' } },
      ],
    });
    expect(decision.action === 'sync' && decision.targets[1]?.request).not.toHaveProperty('bookingsMovedAway');
  });

  test('booking moved resyncs both prisoners', () => {
    const decision = domain(
      envelope('prison-offender-events.prisoner.booking.moved', {
        bookingId: 1203456,
        movedFromNomsNumber: 'A1234BC',
        movedToNomsNumber: 'B2345CD',
      }),
    );
    expect(decision.action === 'sync' && decision.targets.map((t) => t.prisonNumber)).toEqual(['A1234BC', 'B2345CD']);
  });

  test.each(['NEW_ADMISSION', 'READMISSION', 'READMISSION_SWITCH_BOOKING'])('received %s resyncs', (reason) => {
    expect(
      domain(envelope('prisoner-offender-search.prisoner.received', { nomsNumber: 'A1234BC', reason })),
    ).toMatchObject({
      action: 'sync',
      targets: [{ prisonNumber: 'A1234BC', request: { kind: 'resync' } }],
    });
  });

  test.each(['TRANSFERRED', 'TEMPORARY_ABSENCE_RETURN'])('received %s is skipped', (reason) => {
    expect(
      domain(envelope('prisoner-offender-search.prisoner.received', { nomsNumber: 'A1234BC', reason })),
    ).toMatchObject({
      action: 'skip',
      reason: 'received-reason-not-resynced',
    });
  });

  test('the same message twice carries the same event id, a different one another', () => {
    const event = envelope('prisoner-offender-search.prisoner.received', {
      nomsNumber: 'A1234BC',
      reason: 'NEW_ADMISSION',
    });
    const id = (d: ReturnType<typeof domain>) => (d.action === 'sync' ? d.targets[0]?.request.eventId : undefined);
    expect(id(domain(event))).toBeDefined();
    expect(id(domain(event))).toBe(id(domain(event)));
    expect(id(domain({ ...event, occurredAt: '2024-06-21T10:15:30+01:00' }))).not.toBe(id(domain(event)));
  });
});

describe('with the resync source switched to DPS', () => {
  const fromDps = { ...options, switches: { ...options.switches, resyncSource: 'DPS' as const } };
  const route = (event: object) => routeMessage(fromDps, topics.domainEvents, Buffer.from(JSON.stringify(event)), at);

  test('every prisoner-level resync is asked of DPS; a move still says which side lost its booking', () => {
    expect(
      route(envelope('prisoner-offender-search.prisoner.received', { nomsNumber: 'A1234BC', reason: 'NEW_ADMISSION' })),
    ).toMatchObject({ action: 'sync', targets: [{ request: { kind: 'resync', source: 'DPS' } }] });
    expect(
      route(
        envelope('prison-offender-events.prisoner.booking.moved', {
          bookingId: 1203456,
          movedFromNomsNumber: 'A1234BC',
          movedToNomsNumber: 'B2345CD',
        }),
      ),
    ).toMatchObject({
      action: 'sync',
      targets: [
        { prisonNumber: 'A1234BC', request: { source: 'DPS', bookingsMovedAway: true } },
        { prisonNumber: 'B2345CD', request: { source: 'DPS' } },
      ],
    });
  });

  test('a merge is one resync of the retained prisoner, which reads and empties the removed one itself', () => {
    expect(
      route(
        envelope('prison-offender-events.prisoner.merged', {
          nomsNumber: 'A1234BC',
          removedNomsNumber: 'B2345CD',
          bookingId: 1203456,
          reason: 'MERGE',
        }),
      ),
    ).toEqual({
      action: 'sync',
      eventType: 'prison-offender-events.prisoner.merged',
      targets: [
        {
          prisonNumber: 'A1234BC',
          request: expect.objectContaining({ kind: 'resync', source: 'DPS', removedPrisonNumber: 'B2345CD' }),
        },
      ],
    });
  });

  test('from NOMIS (the default) a resync request names no source, as before the switch existed', () => {
    const decision = domain(
      envelope('prisoner-offender-search.prisoner.received', { nomsNumber: 'A1234BC', reason: 'NEW_ADMISSION' }),
    );
    expect(decision.action === 'sync' && decision.targets[0]?.request).not.toHaveProperty('source');
  });
});

describe('alert-level events', () => {
  const update = {
    eventType: 'ALERT-UPDATED',
    eventDatetime: '2024-06-20T10:15:30',
    offenderIdDisplay: 'A1234BC',
    bookingId: 1203456,
    alertSeq: 3,
    auditModuleName: 'OIDALERT',
  };
  const idAt = (offset: string) => {
    const decision = routeMessage(options, topics.offenderEvents, Buffer.from(JSON.stringify(update)), {
      partition: 2,
      offset,
    });
    return decision.action === 'sync' ? decision.targets[0]?.request.eventId : undefined;
  };

  test('identical bytes at another offset are another change (second-precision timestamps); the same offset is a redelivery', () => {
    expect(idAt('7')).toBe(idAt('7'));
    expect(idAt('8')).not.toBe(idAt('7'));
  });

  test('an event without auditModuleName asks the workflow to check the alert itself', () => {
    const withoutModule: Record<string, unknown> = { ...update };
    delete withoutModule.auditModuleName;
    expect(nomis(withoutModule)).toMatchObject({
      action: 'sync',
      targets: [{ request: { change: { auditModuleOmitted: true } } }],
    });
    expect(nomis(update)).toMatchObject({ action: 'sync' });
    expect(nomis(update).action === 'sync' && JSON.stringify(nomis(update))).not.toContain('auditModuleOmitted');
  });

  test.each([['a1234bc'], [' A1234BC'], ['A1234BC'.padEnd(300, 'X')]])(
    'a DPS alert event for prison number %j is dead-lettered naming personReference',
    (value) => {
      const event = {
        ...envelope('person.alert.created', {
          alertUuid: '8cdadcf3-b003-4116-9956-c99bd8df6a00',
          alertCode: 'XA',
          source: 'DPS',
        }),
        personReference: { identifiers: [{ type: 'NOMS', value }] },
      };
      expect(domain(event)).toMatchObject({
        action: 'dead-letter',
        reason: expect.stringContaining('personReference.identifiers NOMS value'),
      });
    },
  );
});

describe('loop prevention and things to ignore', () => {
  test('NOMIS alert written by the sync is skipped as our own change', () => {
    const event = {
      eventType: 'ALERT-UPDATED',
      eventDatetime: '2024-06-20T10:15:30',
      offenderIdDisplay: 'A1234BC',
      bookingId: 1203456,
      alertSeq: 3,
      alertType: 'X',
      alertCode: 'XA',
      auditModuleName: 'DPS_SYNCHRONISATION',
    };
    expect(nomis(event)).toMatchObject({ action: 'skip', reason: 'own-change', prisonNumber: 'A1234BC' });
  });

  test.each(['NOMIS', 'MIGRATION', 'RESYNC'])('DPS alert event with source %s is skipped', (source) => {
    const event = envelope('person.alert.created', {
      alertUuid: '8cdadcf3-b003-4116-9956-c99bd8df6a00',
      alertCode: 'XA',
      source,
    });
    expect(domain(event)).toMatchObject({ action: 'skip', reason: 'not-from-dps' });
  });

  test('unknown event types on either topic are skipped, not dead-lettered', () => {
    expect(domain(envelope('prisoner-offender-search.prisoner.released', {}))).toMatchObject({
      action: 'skip',
      reason: 'unknown-event-type',
    });
    expect(nomis({ eventType: 'OFFENDER_MOVEMENT-RECEPTION' })).toMatchObject({
      action: 'skip',
      reason: 'unknown-event-type',
    });
  });
});

describe('malformed messages are dead-lettered with a reason naming the field', () => {
  test.each([
    ['not JSON', Buffer.from('{oops'), /not JSON/],
    ['empty', Buffer.from(''), /no value/],
    ['an array', Buffer.from('[]'), /not a JSON object/],
    ['no eventType', Buffer.from('{"foo":1}'), /eventType: Required/],
  ])('%s', (_what, value, reason) => {
    const decision = routeMessage(options, topics.domainEvents, value, at);
    expect(decision.action).toBe('dead-letter');
    expect(decision.action === 'dead-letter' && decision.reason).toMatch(reason);
  });

  test('a known event with a bad field', () => {
    const decision = domain(
      envelope('prison-offender-events.prisoner.merged', {
        nomsNumber: 'A1234BC',
        removedNomsNumber: 42,
        reason: 'MERGE',
      }),
    );
    expect(decision).toMatchObject({ action: 'dead-letter' });
    expect(decision.action === 'dead-letter' && decision.reason).toContain('additionalInformation.removedNomsNumber');
  });

  test('a bad prison number', () => {
    const decision = domain(
      envelope('prisoner-offender-search.prisoner.received', { nomsNumber: 'nobody', reason: 'NEW_ADMISSION' }),
    );
    expect(decision.action === 'dead-letter' && decision.reason).toContain(
      'additionalInformation.nomsNumber: must be a prison number',
    );
  });
});

describe('alert-level events become alert sync requests, unless their direction is switched off', () => {
  const nomisInsert = {
    eventType: 'ALERT-INSERTED',
    eventDatetime: '2024-06-20T10:15:30',
    offenderIdDisplay: 'A1234BC',
    bookingId: 1203456,
    alertSeq: 3,
    alertType: 'X',
    alertCode: 'XA',
    auditModuleName: 'OIDALERT',
  };
  const dpsCreated = envelope('person.alert.created', {
    alertUuid: '8cdadcf3-b003-4116-9956-c99bd8df6a00',
    alertCode: 'XA',
    source: 'DPS',
  });

  test('a NOMIS user change syncs NOMIS -> DPS', () => {
    expect(nomis(nomisInsert)).toMatchObject({
      action: 'sync',
      targets: [
        {
          prisonNumber: 'A1234BC',
          request: {
            kind: 'alert',
            change: { direction: 'NOMIS_TO_DPS', action: 'CREATED', bookingId: 1203456, alertSeq: 3 },
          },
        },
      ],
    });
  });

  test('a DPS user change syncs DPS -> NOMIS', () => {
    expect(domain(dpsCreated)).toMatchObject({
      action: 'sync',
      targets: [
        {
          prisonNumber: 'A1234BC',
          request: {
            kind: 'alert',
            change: {
              direction: 'DPS_TO_NOMIS',
              action: 'CREATED',
              dpsAlertId: '8cdadcf3-b003-4116-9956-c99bd8df6a00',
            },
          },
        },
      ],
    });
  });

  test('each direction can be switched off on its own', () => {
    const off = (nomisToDps: boolean, dpsToNomis: boolean) => ({
      topics,
      switches: { resyncSource: 'NOMIS' as const, nomisToDps, dpsToNomis },
    });
    const asBuffer = (event: object) => Buffer.from(JSON.stringify(event));
    expect(routeMessage(off(false, true), topics.offenderEvents, asBuffer(nomisInsert), at)).toMatchObject({
      action: 'skip',
      reason: 'direction-switched-off',
    });
    expect(routeMessage(off(false, true), topics.domainEvents, asBuffer(dpsCreated), at)).toMatchObject({
      action: 'sync',
    });
    expect(routeMessage(off(true, false), topics.domainEvents, asBuffer(dpsCreated), at)).toMatchObject({
      action: 'skip',
      reason: 'direction-switched-off',
    });
    expect(routeMessage(off(true, false), topics.offenderEvents, asBuffer(nomisInsert), at)).toMatchObject({
      action: 'sync',
    });
  });
});
