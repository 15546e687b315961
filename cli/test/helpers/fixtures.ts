// Test data for the CLI tests: publishers registered through the SDK and an app JSON file.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient, type AppInput } from '@mes/sdk';

let sequence = 0;

export async function registerPublisher(baseUrl: string, name = 'CLI Test SAS'): Promise<{ key: string; id: string }> {
  sequence += 1;
  const registrationNumber = `${String(process.pid).slice(-6).padStart(6, '0')}${String(Date.now() % 1e4).padStart(4, '0')}${String(sequence).padStart(4, '0')}`;
  const { publisher, apiKey } = await createClient({ baseUrl }).publishers.register({
    name,
    registrationNumber,
    contactEmail: 'dev@cli-test.example.fr',
  });
  return { key: apiKey.key, id: publisher.id };
}

export const appInput: AppInput = {
  name: 'TensioSuivi',
  shortDescription: { fr: 'Suivez votre tension artérielle au quotidien.' },
  longDescription: { fr: 'TensioSuivi relève vos mesures de tension et les partage avec votre espace santé.' },
  category: 'suivi-maladie-chronique',
  websiteUrl: 'https://tensiosuivi.example.fr',
  redirectUris: ['https://tensiosuivi.example.fr/oauth/callback'],
  scopes: [{ scope: 'patient/Observation.crs?category=vital-signs', justification: 'Lire et ajouter vos mesures de tension artérielle.' }],
  privacyPolicyUrl: 'https://tensiosuivi.example.fr/confidentialite',
  termsUrl: 'https://tensiosuivi.example.fr/cgu',
  supportContact: { email: 'support@tensiosuivi.example.fr' },
};

export async function writeAppFile(dir: string, app: Partial<AppInput> = {}, name = 'app.json'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify({ ...appInput, ...app }));
  return file;
}
