// Public surface of the records module: the patient-data store behind the FHIR API.
export { recordsHandlers } from './routes.js';
export { fhirFormatHook } from './formats.js';
export { insertResources, copyResources, resourceRow, resourceColumns, insertGuardianships, mayActFor, childrenOf, endGuardianshipsOf, findPatients, findPatientByIdentifier, patientSummaries, agendaOf, conversationsOf, conversationMessages, conversationMessage, insertResource, type AgendaEntry, type ConversationSummary, type StoredResource, type NewResource, type PatientSummary } from './repository.js';
export { fhirResourceTypes, searchTokens, resourceDate, fold, type FhirResource, type FhirResourceType } from './resources.js';
export * as vocabulary from './vocabulary.js';
export { messageFromPatient, messageContentTypes, type Communication } from './messages.js';
export { validateDocumentReference, validateObservation } from './validation.js';
export { factsOf } from './resources.js';
