// Public surface of the oauth module for the other modules.
export { parseScope, resourceTypes, contextScopes, type ParsedScope, type ScopeParseResult } from './scopes.js';
export { oauthHandlers } from './routes.js';
export { createClient } from './clients.js';
export { listClients, type Client } from './client-repository.js';
export { ensureSigningKey, activeSigningKey, keysForLongLivedSignatures, publishedKeys, rotateSigningKey, SIGNING_ALG } from './signing-keys.js';
export {
  grantedScopes,
  parseScopeString,
  formatScopes,
  formatScope,
  scopeSet,
  emptyScopeSet,
  isEmptyScopeSet,
  hasScope,
  equalScopes,
  isSubset,
  intersect,
  access,
  allows,
  platformScopes,
  interactions,
  type ScopeSet,
  type ResourceScope,
  type ResourceType,
  type Interaction,
  type ResourceAccess,
  type SearchFilter,
  type ResourceFacts,
} from './scopes.js';
export { revokeGrant, RevocationReason } from './grant-repository.js';
export { revokeGrantsOfPerson, grantsOfPerson, revokeGrantOfPerson, revokeGrantsOfClient, type GrantSummary } from './grant-repository.js';
export { clientCache, findClientById, type ClientWithApp } from './client-repository.js';
export { endPlatformSessionsApprovedWith } from './platform-sessions.js';
export { dpopChallenge } from './resource-access.js';
export { grantEndedDescriptions, type GrantEnded } from './token-state.js';
export { accessTokenSigner, type Signer } from './access-tokens.js';
export { whyGrantEnded } from './grant-ended.js';
export { pendingAuthorization, finishAuthorization, finishCoveredLaunch, INTERACTION_PATH, type PendingAuthorization } from './authorization.js';
export { launchUrlAllowed, startLaunch, LAUNCH_LIFETIME_SECONDS, type LaunchContext } from './launches.js';
export { fhirBaseOf } from './audience.js';
export { unverifiedClaims } from './jws.js';
