// Public surface of the certification module: submissions, checks, reviews, certificates and the
// decision log.
export { certificationHandlers } from './routes.js';
export { certificationService, type CertificationService } from './service.js';
export { loadCriteria, type CriteriaLibrary } from './criteria.js';
export { documentFetcher } from './checks.js';
export { reviewerApiKeyScheme, createReviewer, findReviewerByLogin, authenticateReviewerKey, REVIEWER_KEY_PREFIX } from './reviewers.js';
export { seedSandboxReviewers, sandboxUsers, SANDBOX_DEMO_PUBLISHER_REGISTRATION } from './sandbox-accounts.js';
