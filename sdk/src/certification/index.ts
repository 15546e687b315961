// `@mes/sdk/certification`: what reviewers, publishers and auditors use to check the platform's
// certification records offline (a certificate's signature and claims, the hash chain of the
// decision log, the canonical JSON they are hashed in, the verdict rules of the published
// criteria). An app that only calls the API does not import it, so its bundle does not carry it.
/**
 * Offline checks of the platform's certification records: certificates, the decision log, the
 * canonical JSON they are hashed in, and the verdict rules of the published criteria.
 * @module
 */
export {
  verifyCertificate,
  verifyDecisionLog,
  decisionHash,
  canonicalJson,
  sha256Hex,
  GENESIS_HASH,
  CERTIFICATE_TYPE,
  type CertificateClaims,
  type CertificateKey,
  type CertificateVerification,
  type DecisionLogVerification,
  type UnhashedDecision,
} from './verify.js';
export { verdictProblems, criterionIds, type VerdictProblem } from './verdicts.js';
