// An example's app in the sandbox, registered with the publisher's API key: found by name or
// created, its redirect URIs and scopes brought up to date (a local server's port may change from
// one start to the next). On the real platform an app is registered once, then certified.
import type { App, AppInput, PublisherClient } from '@mes/sdk/publisher';

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((value, i) => value === b[i]);

export async function ensureSandboxApp(publisher: PublisherClient, input: AppInput): Promise<App> {
  for await (const app of publisher.apps.list({ limit: 100 })) {
    if (app.name !== input.name) continue;
    const upToDate =
      sameList(app.redirectUris, input.redirectUris) &&
      sameList(app.scopes.map((each) => each.scope), input.scopes.map((each) => each.scope));
    return upToDate ? app : publisher.apps.update(app.id, { redirectUris: input.redirectUris, scopes: input.scopes });
  }
  return publisher.apps.create(input);
}

/** The app's public client (every sandbox app has one at once; elsewhere it is created). */
export async function publicClientOf(publisher: PublisherClient, app: App): Promise<string> {
  const { items } = await publisher.clients.list(app.id);
  const existing = items.find((client) => client.type === 'public');
  return (existing ?? (await publisher.clients.create(app.id, { type: 'public' }))).clientId;
}

/** A required environment variable, or a message saying what to set. */
export function requiredEnv(name: string, hint: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`Set ${name}: ${hint}`);
    process.exit(2);
  }
  return value;
}
