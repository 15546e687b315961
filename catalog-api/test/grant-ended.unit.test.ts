// The one judgement of why a grant's tokens stopped (`grantEnded`), on states the sandbox cannot
// produce: outside the sandbox, an app that is not certified; revocation texts written before the
// reasons were named; and the precedence of the grant's own end over the app's state.
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/core/config.js';
import { RevocationReason, type GrantState } from '../src/modules/oauth/grant-repository.js';
import { grantAllowsTokens, grantEnded, grantEndedDescriptions } from '../src/modules/oauth/token-state.js';

const production = { ...defaultConfig, mode: 'production' as const };
const sandbox = { ...defaultConfig, mode: 'sandbox' as const };

const live: GrantState = {
  patientId: 'p',
  actorId: 'p',
  appId: 'a',
  revoked: false,
  revokedReason: null,
  expired: false,
  certificationStatus: 'certified',
  clientExists: true,
  tokensNotBefore: null,
};

describe('grantEnded', () => {
  it('is null for a live grant of a certified app, and for any app but a suspended or revoked one in the sandbox', () => {
    expect(grantEnded(live, production)).toBeNull();
    expect(grantAllowsTokens(live, production)).toBe(true);
    expect(grantEnded({ ...live, certificationStatus: 'draft' }, sandbox)).toBeNull();
    // The sandbox's "expire now" is not a grant end.
    expect(grantEnded({ ...live, tokensNotBefore: new Date() }, production)).toBeNull();
  });

  it.each([
    [RevocationReason.withdrawnByPatient, 'consent_withdrawn'],
    [RevocationReason.opposedToApps, 'consent_withdrawn'],
    [RevocationReason.accountClosed, 'grant_revoked'],
    [RevocationReason.codeReplayed, 'grant_revoked'],
    [RevocationReason.refreshTokenReused, 'grant_revoked'],
    [RevocationReason.revokedByClient, 'grant_revoked'],
    ['a reason written by an older version', 'grant_revoked'],
    [null, 'grant_revoked'],
  ] as const)('names a grant revoked for %j %s', (reason, expected) => {
    expect(grantEnded({ ...live, revoked: true, revokedReason: reason }, production)).toBe(expected);
  });

  it.each([
    ['suspended', 'app_suspended', 'app_suspended'],
    ['revoked', 'app_not_certified', 'app_not_certified'],
    ['expired', 'app_not_certified', null],
    ['draft', 'app_not_certified', null],
    ['in_review', 'app_not_certified', null],
  ] as const)('names an app %s %s outside the sandbox (%s in the sandbox)', (status, outside, inSandbox) => {
    expect(grantEnded({ ...live, certificationStatus: status }, production)).toBe(outside);
    expect(grantEnded({ ...live, certificationStatus: status }, sandbox)).toBe(inSandbox);
  });

  it('puts the client first, then the grant’s own end, then the app', () => {
    expect(grantEnded(null, production)).toBe('client_deleted');
    expect(grantEnded({ ...live, clientExists: false, revoked: true }, production)).toBe('client_deleted');
    const withdrawnOfSuspended = { ...live, revoked: true, revokedReason: RevocationReason.withdrawnByPatient, certificationStatus: 'suspended' as const };
    expect(grantEnded(withdrawnOfSuspended, production)).toBe('consent_withdrawn');
    expect(grantEnded({ ...live, expired: true, certificationStatus: 'suspended' }, production)).toBe('grant_expired');
    expect(grantAllowsTokens({ ...live, expired: true }, production)).toBe(false);
  });

  it('describes each end in characters a challenge may quote', () => {
    for (const description of Object.values(grantEndedDescriptions)) expect(description).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
  });
});
