// Public surface of the oauth module for the other modules.
export { parseScope, resourceTypes, contextScopes, type ParsedScope, type ScopeParseResult } from './scopes.js';
