// The sandbox's demo data: one verified demo publisher and a few apps, most of them certified so
// the public catalogue has something to show, each with its logo. Seeding is idempotent: a warm
// start adds no app (it gives the logos again, to a store seeded before they existed).
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalog, certification, storeProvidedLogo, type Db } from '@mes/catalog-api';
import { demoApps, demoPublisher } from './demo-data.js';
import { demoLogos, drawLogo } from './demo-logos.js';

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

  const existing = new Map((await catalog.appsOfPublisher(db, publisher.id)).map((app) => [app.name, app]));
  const createdApps: string[] = [];
  for (const { certified, logo, ...input } of demoApps) {
    let app = existing.get(input.name);
    if (!app) {
      const created = await catalog.createApp(db, publisher.id, input, { sandbox: true });
      if (certified) await catalog.setCertificationStatus(db, created.id, 'certified');
      createdApps.push(created.id);
      app = created;
    }
    // The demo logoUrl is on a host that does not exist: the logo is given to the platform instead,
    // unless the developer gave the app a logoUrl of their own (the platform fetches that one).
    if (app.logoUrl === input.logoUrl) {
      const stored = await storeProvidedLogo(db, app.id, drawLogo(demoLogos[logo]));
      if (!stored.ok) throw new Error(`the demo logo of ${input.name} was refused: ${stored.reason}`);
    }
  }
  // The reviewers `mes login --sandbox-user` signs in as (one linked to the demo publisher).
  await certification.seedSandboxReviewers(db);
  return { publisherId: publisher.id, apiKey, createdApps };
}
