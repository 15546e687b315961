// Test data for the CLI tests: publishers registered through the SDK and an app JSON file.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sampleAppInput, uniqueRegistrationNumber } from '@mes/catalog-api';
import { createPublisherClient, type AppInput } from '@mes/sdk/publisher';

export async function registerPublisher(baseUrl: string, name = 'CLI Test SAS'): Promise<{ key: string; id: string }> {
  const { publisher, apiKey } = await createPublisherClient({ baseUrl }).publishers.register({
    name,
    registrationNumber: uniqueRegistrationNumber(),
    contactEmail: 'dev@cli-test.example.fr',
  });
  return { key: apiKey.key, id: publisher.id };
}

export const appInput: AppInput = sampleAppInput({ shortDescription: { fr: 'Suivez votre tension artérielle au quotidien.' } });

export async function writeAppFile(dir: string, app: Partial<AppInput> = {}, name = 'app.json'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify({ ...appInput, ...app }));
  return file;
}
