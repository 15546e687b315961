// Public surface of the catalogue module: publishers, their apps and the public catalogue.
export { catalogHandlers, catalogPageCache, publisherApiKeyScheme, authenticateApiKey, catalogCursor } from './routes.js';
export { registerPublisher, createApp, updateApp, deleteApp, issueApiKey } from './service.js';
export { findPublisherByRegistrationNumber, findApp, appsOfPublisher, setCertificationStatus, setCertifiedVersion, findAppForPatients, appsForPatients } from './repository.js';
export type { App, AppInput, Publisher, CatalogApp, CertificationStatus, AppForPatients } from './repository.js';
export { redirectUriProblem, foldText, generateApiKey, hashApiKey, API_KEY_PREFIX } from './rules.js';
export { findPublisher, notificationEndpointsOf } from './repository.js';
export { listCatalog, findAppLogoSource } from './repository.js';
export type { AppCategory } from './repository.js';
