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
