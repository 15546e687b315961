// The sandbox's demo data: one verified demo publisher and a few apps, most of them certified so
// the public catalogue has something to show. Seeding is idempotent: a warm start adds nothing.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalog, certification, type Db } from '@mes/catalog-api';
import { demoApps, demoPublisher } from './demo-data.js';

export interface SeedResult {
  publisherId: string;
  /** The demo publisher's API key, kept in the data directory so every start prints the same one. */
  apiKey: string;
  /** Apps created by this run (empty on a warm start). */
  createdApps: string[];
}

function readKey(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export async function seedSandbox(db: Db, dataDir: string): Promise<SeedResult> {
  const keyFile = join(dataDir, 'sandbox-demo-api-key');
  let publisher = await catalog.findPublisherByRegistrationNumber(db, demoPublisher.registrationNumber);
  let apiKey = readKey(keyFile);
  if (!publisher) {
    const registered = await catalog.registerPublisher(db, demoPublisher, { verified: true });
    publisher = registered.publisher;
    apiKey = registered.apiKey.key;
  } else if (!apiKey) {
    // The key file was lost (or another data directory is used with a shared server): issue a new key.
    apiKey = (await catalog.issueApiKey(db, publisher.id, 'sandbox demo')).key;
  }
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
  chmodSync(keyFile, 0o600);

  const existing = new Set(await catalog.appNames(db, publisher.id));
  const createdApps: string[] = [];
  for (const { certified, ...input } of demoApps) {
    if (existing.has(input.name)) continue;
    const app = await catalog.createApp(db, publisher.id, input, { sandbox: true });
    if (certified) await catalog.setCertificationStatus(db, app.id, 'certified');
    createdApps.push(app.id);
  }
  // The reviewers `mes login --sandbox-user` signs in as (one linked to the demo publisher).
  await certification.seedSandboxReviewers(db);
  return { publisherId: publisher.id, apiKey, createdApps };
}
