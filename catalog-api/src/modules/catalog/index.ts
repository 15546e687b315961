// Public surface of the catalogue module: publishers, their apps and the public catalogue.
export { catalogHandlers, publisherApiKeyScheme, authenticateApiKey, catalogCursor } from './routes.js';
export { registerPublisher, createApp, updateApp, deleteApp, issueApiKey } from './service.js';
export { findPublisherByRegistrationNumber, findApp, appNames, setCertificationStatus, findAppForPatients, appsForPatients } from './repository.js';
export type { App, AppInput, Publisher, CatalogApp, CertificationStatus, AppForPatients } from './repository.js';
export { redirectUriProblem, foldText } from './rules.js';
export { listCatalog, findAppLogoSource } from './repository.js';
export type { AppCategory } from './repository.js';
