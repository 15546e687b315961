// Test data shaped by the spec's types: a valid app (the AppInput example of the spec) and
// publishers with unique registration numbers.
import type { AppInput, PublisherRegistration } from '@mes/sdk';

export function appInput(overrides: Partial<AppInput> = {}): AppInput {
  return {
    name: 'TensioSuivi',
    shortDescription: { fr: 'Suivez votre tension artérielle au quotidien.', en: 'Track your blood pressure every day.' },
    longDescription: { fr: 'TensioSuivi relève vos mesures de tension et les partage avec votre espace santé.' },
    category: 'suivi-maladie-chronique',
    websiteUrl: 'https://tensiosuivi.example.fr',
    redirectUris: ['https://tensiosuivi.example.fr/oauth/callback'],
    scopes: [
      { scope: 'patient/Observation.crs?category=vital-signs', justification: 'Lire et ajouter vos mesures de tension artérielle.' },
    ],
    privacyPolicyUrl: 'https://tensiosuivi.example.fr/confidentialite',
    termsUrl: 'https://tensiosuivi.example.fr/cgu',
    supportContact: { email: 'support@tensiosuivi.example.fr' },
    ...overrides,
  };
}

let sequence = 0;

/** A registration with a SIRET-shaped number no other test of this process uses. */
export function publisherRegistration(name = 'Santé Connectée SAS'): PublisherRegistration {
  sequence += 1;
  const registrationNumber = `${String(process.pid).slice(-6).padStart(6, '0')}${String(Date.now() % 1e4).padStart(4, '0')}${String(sequence).padStart(4, '0')}`;
  return { name, registrationNumber, contactEmail: 'dev@sante-connectee.fr', domains: ['sante-connectee.fr'] };
}
