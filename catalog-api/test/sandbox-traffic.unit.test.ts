// The traffic report built from recorded rows (no server, no store): how a client reacted to being
// told that its grant had ended, at the FHIR API or the token endpoint.
import { describe, expect, it } from 'vitest';
import { buildReport, type TrafficDetails } from '../src/modules/sandbox/traffic.js';

let second = 0;
const row = (operation: string, status: number, details: TrafficDetails = {}) => ({ at: new Date(Date.UTC(2026, 10, 2, 10, 0, second++)), operation, status, details });
const fhirCall = (status: number, details: TrafficDetails = {}) => row('searchObservation', status, { resourceType: 'Observation', interaction: 'search', dpop: true, ...details });
const ended = { grantEnded: 'grant_revoked' };

describe('the reaction to an ended grant', () => {
  it('counts a client that stopped, or went back to authorization, as stopped', () => {
    const report = buildReport(
      'mes_client',
      [
        fhirCall(200),
        fhirCall(401, { ...ended, injected: 'revoked_grant' }),
        row('pushAuthorizationRequest', 201, { scope: 'patient/Observation.rs' }),
        row('authorize', 303, { pushed: true }),
        row('token', 400, { grantType: 'refresh_token', dpop: true, grantEnded: 'consent_withdrawn' }),
      ],
      0,
    );
    expect(report.reactions.grantEnded).toEqual({ count: 2, stopped: 2, retried: 0 });
  });

  it('counts a client that kept using the dead grant as retried', () => {
    const report = buildReport(
      'mes_client',
      [fhirCall(401, ended), fhirCall(401, ended), row('token', 400, { grantType: 'refresh_token', dpop: true, ...ended }), row('authorize', 303, { pushed: true })],
      0,
    );
    expect(report.reactions.grantEnded).toEqual({ count: 3, stopped: 1, retried: 2 });
    // A 401 that says the grant ended asks the client to stop, not to get a new token: it is not an unauthorized reaction.
    expect(report.reactions.unauthorized).toEqual({ count: 0, recovered: 0 });
  });

  it('is zero without any answer saying so', () => {
    const report = buildReport('mes_client', [fhirCall(200), fhirCall(401)], 0);
    expect(report.reactions.grantEnded).toEqual({ count: 0, stopped: 0, retried: 0 });
    expect(report.reactions.unauthorized).toEqual({ count: 1, recovered: 0 });
  });
});

describe('polls a subscription would have saved', () => {
  const search = (resourceType: string, resultCount: number, patient = 'p1') =>
    row(`search${resourceType}`, 200, { resourceType, interaction: 'search', dpop: true, patient, resultCount });

  it('counts the empty searches of a notified kind, save those made while subscribed to the topic for that patient', () => {
    const rows = [
      search('DocumentReference', 0),
      search('DocumentReference', 2),
      search('DocumentReference', 0),
      search('Observation', 0),
      search('Observation', 0, 'p2'),
      search('Immunization', 0),
      row('searchDocumentReference', 403, { resourceType: 'DocumentReference', interaction: 'search' }),
    ];
    // Subscribed to new measurements for p1 from the fourth search on.
    const report = buildReport('mes_client', rows, 0, [{ patientId: 'p1', topic: 'new-measurement', from: rows[3]!.at, to: null }]);
    expect(report.polling).toEqual({
      searches: 5,
      emptySearches: 4,
      savedBySubscriptions: 3,
      byTopic: {
        'new-document': { searches: 3, empty: 2, saved: 2 },
        'new-measurement': { searches: 2, empty: 2, saved: 1 },
      },
    });
  });

  it('counts again once the subscription ended', () => {
    const rows = [search('Appointment', 0), search('Appointment', 0)];
    const report = buildReport('mes_client', rows, 0, [{ patientId: 'p1', topic: 'appointment', from: new Date(0), to: rows[1]!.at }]);
    expect(report.polling!.byTopic).toEqual({ appointment: { searches: 2, empty: 2, saved: 1 } });
  });
});
