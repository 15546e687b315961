// Signed sandbox evidence: a client's traffic report, signed by the sandbox that recorded it (a
// compact JWS, ES256, typ `mes-sandbox-evidence+jwt`), so a platform that does not run the
// sandbox (production) can take it as a submission's evidence. What is signed names the app and
// its publisher's registration number: evidence cannot be lent to another publisher.
import { createLocalJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWK } from 'jose';
import { ProblemError } from '../../core/errors.js';
import type { SecretBox } from '../../core/secret-box.js';
import type { Queryable } from '../../core/store/db.js';
import { activeSigningKey, SIGNING_ALG } from '../oauth/index.js';
import type { TrafficReport } from './traffic.js';

export const EVIDENCE_TYPE = 'mes-sandbox-evidence+jwt';
/** How long a piece of evidence may be submitted after it was signed. */
export const EVIDENCE_LIFETIME_SECONDS = 90 * 86_400;

export interface EvidenceSubject {
  clientId: string;
  app: { id: string; name: string; scopes: string[]; redirectUris: string[] };
  publisher: { id: string; name: string; registrationNumber: string };
  report: TrafficReport;
}

export interface SignedEvidence {
  issuer: string;
  clientId: string;
  appId: string;
  issuedAt: string;
  expiresAt: string;
  report: TrafficReport;
  jws: string;
}

export async function signEvidence(db: Queryable, box: SecretBox, issuer: string, subject: EvidenceSubject): Promise<SignedEvidence> {
  const { kid, key } = await activeSigningKey(db, box);
  const issuedAt = Math.floor(Date.now() / 1000);
  const expiresAt = issuedAt + EVIDENCE_LIFETIME_SECONDS;
  const jws = await new SignJWT({
    app: { id: subject.app.id, name: subject.app.name, scopes: subject.app.scopes, redirect_uris: subject.app.redirectUris },
    publisher: { id: subject.publisher.id, name: subject.publisher.name, registration_number: subject.publisher.registrationNumber },
    report: subject.report,
  })
    .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: EVIDENCE_TYPE })
    .setIssuer(issuer)
    .setSubject(subject.clientId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(key);
  return {
    issuer,
    clientId: subject.clientId,
    appId: subject.app.id,
    issuedAt: new Date(issuedAt * 1000).toISOString(),
    expiresAt: new Date(expiresAt * 1000).toISOString(),
    report: subject.report,
    jws,
  };
}

export interface VerifiedEvidence {
  issuer: string;
  clientId: string;
  issuedAt: string;
  report: TrafficReport;
}

const refuse = (detail: string) => new ProblemError('invalid_evidence', detail, [{ pointer: '/sandboxEvidence', detail }]);

/**
 * The report inside evidence signed by the trusted sandbox for this publisher. `at` is the moment
 * it must have been valid (now at submission; the submission's time when reviewers check again).
 * @throws ProblemError `invalid_evidence`, saying why.
 */
export async function verifyEvidence(
  jws: string,
  trusted: { issuer: string; keys: JsonWebKey[] } | undefined,
  expected: { registrationNumber: string; at?: Date },
): Promise<VerifiedEvidence> {
  if (!trusted) throw refuse('This platform trusts no sandbox for evidence (SANDBOX_EVIDENCE_ISSUER); submit without sandboxEvidence.');
  let payload;
  try {
    ({ payload } = await jwtVerify(jws, createLocalJWKSet({ keys: trusted.keys as JWK[] }), {
      issuer: trusted.issuer,
      typ: EVIDENCE_TYPE,
      algorithms: [SIGNING_ALG],
      ...(expected.at ? { currentDate: expected.at } : {}),
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw refuse(`The evidence expired (${EVIDENCE_LIFETIME_SECONDS / 86_400} days after it was signed); fetch it again from the sandbox.`);
    if (error instanceof joseErrors.JWTClaimValidationFailed) throw refuse(`The evidence was not signed by the trusted sandbox ${trusted.issuer} (${error.claim} ${error.reason}).`);
    if (error instanceof joseErrors.JOSEError) throw refuse(`The evidence is not valid evidence of ${trusted.issuer}: ${error.message}.`);
    throw error;
  }
  const publisher = payload.publisher as { registration_number?: unknown } | undefined;
  if (publisher?.registration_number !== expected.registrationNumber) {
    throw refuse('The evidence was recorded for another publisher: fetch it from the sandbox with your own publisher account.');
  }
  if (typeof payload.sub !== 'string' || typeof payload.report !== 'object' || payload.report === null) throw refuse('The evidence has no client or no report.');
  return { issuer: trusted.issuer, clientId: payload.sub, issuedAt: new Date((payload.iat ?? 0) * 1000).toISOString(), report: payload.report as TrafficReport };
}
