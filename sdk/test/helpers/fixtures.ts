// Test data shaped by the spec's types: a valid app and publishers with unique registration numbers.
import { sampleAppInput, uniqueRegistrationNumber } from '@mes/catalog-api';
import type { PublisherRegistration } from '@mes/sdk';

export const appInput = sampleAppInput;

/** A registration with a SIRET-shaped number no other test uses. */
export function publisherRegistration(name = 'Santé Connectée SAS'): PublisherRegistration {
  return { name, registrationNumber: uniqueRegistrationNumber(), contactEmail: 'dev@sante-connectee.fr', domains: ['sante-connectee.fr'] };
}
