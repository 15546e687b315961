// Use cases of the catalogue, shared by the HTTP handlers and by other modules (the sandbox seed
// goes through them too, so seeded data obeys the same rules as data sent over the API).
import type { components } from '@mes/openapi';
import { ProblemError } from '../../core/errors.js';
import type { Db } from '../../core/store/db.js';
import { createClient, endPlatformSessionsApprovedWith } from '../oauth/index.js';
import * as repo from './repository.js';
import { canonicalScopes, generateApiKey, launchUrlErrors, notificationEndpointErrors, redirectUriErrors, undeletableStatuses } from './rules.js';

type PublisherRegistration = components['schemas']['PublisherRegistration'];
type ApiKeyCreated = components['schemas']['ApiKeyCreated'];

export async function registerPublisher(
  db: Db,
  input: PublisherRegistration,
  options: { verified: boolean },
): Promise<{ publisher: repo.Publisher; apiKey: ApiKeyCreated }> {
  return db.transaction(async (tx) => {
    const publisher = await repo.insertPublisher(tx, {
      name: input.name,
      registrationNumber: input.registrationNumber,
      contactEmail: input.contactEmail,
      domains: input.domains ?? [],
      verified: options.verified,
    });
    if (!publisher) {
      throw new ProblemError('publisher_exists', `A publisher with registration number ${input.registrationNumber} is already registered.`);
    }
    const apiKey = await issueApiKey(tx, publisher.id, 'default');
    return { publisher, apiKey };
  });
}

export async function issueApiKey(db: Pick<Db, 'query'>, publisherId: string, label: string): Promise<ApiKeyCreated> {
  const secret = generateApiKey();
  const key = await repo.insertApiKey(db as Db, publisherId, { label, prefix: secret.prefix, hash: secret.hash });
  return { ...key, key: secret.key };
}

/**
 * Revokes an API key, and with it every command-line session it approved: a leaked key must not
 * leave sessions open behind it. False when the key is not the publisher's or already revoked.
 */
export async function revokeApiKey(db: Db, publisherId: string, keyId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await repo.revokeApiKey(tx, publisherId, keyId))) return false;
    await endPlatformSessionsApprovedWith(tx, keyId);
    return true;
  });
}

function validateApp(input: Partial<repo.AppInput>): Partial<repo.AppInput> {
  const uriErrors = input.redirectUris ? redirectUriErrors(input.redirectUris) : [];
  if (uriErrors.length) throw new ProblemError('invalid_redirect_uri', uriErrors.map((e) => e.detail).join('; '), uriErrors);
  const endpointErrors = input.notificationEndpoints ? notificationEndpointErrors(input.notificationEndpoints) : [];
  if (endpointErrors.length) throw new ProblemError('validation_failed', endpointErrors.map((e) => e.detail).join('; '), endpointErrors);
  if (!input.scopes) return input;
  const { scopes, errors } = canonicalScopes(input.scopes);
  if (errors.length) throw new ProblemError('invalid_scope', errors.map((e) => e.detail).join('; '), errors);
  return { ...input, scopes };
}

/**
 * Creates an app. In the sandbox the app also gets a public OAuth client at once, so a developer
 * can start an authorization without another step.
 */
/** Refuses an app (as it is, or would become) whose launch URL does not fit its redirect URIs and scopes. */
function checkLaunchUrl(app: Pick<repo.App, 'redirectUris' | 'scopes'> & { launchUrl?: string | null | undefined }): void {
  const errors = launchUrlErrors(app);
  if (errors.length) throw new ProblemError('validation_failed', errors.map((e) => e.detail).join('; '), errors);
}

export async function createApp(db: Db, publisherId: string, input: repo.AppInput, options: { sandbox: boolean }): Promise<repo.App> {
  const valid = validateApp(input) as repo.AppInput;
  checkLaunchUrl(valid);
  return db.transaction(async (tx) => {
    const app = await repo.insertApp(tx, publisherId, valid);
    if (options.sandbox) await createClient(tx, app.id, { type: 'public' });
    return app;
  });
}

export async function updateApp(db: Db, publisherId: string, appId: string, update: repo.AppUpdate): Promise<repo.App> {
  const valid = validateApp(update as Partial<repo.AppInput>) as repo.AppUpdate;
  const app = await db.transaction((tx) => repo.updateApp(tx, publisherId, appId, valid, checkLaunchUrl));
  if (!app) throw new ProblemError('not_found', `No app ${appId}.`);
  return app;
}

export async function deleteApp(db: Db, publisherId: string, appId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const app = await repo.findApp(tx, publisherId, appId);
    if (!app) throw new ProblemError('not_found', `No app ${appId}.`);
    if ((undeletableStatuses as readonly string[]).includes(app.certificationStatus)) {
      throw new ProblemError(
        'app_not_deletable',
        `The app is ${app.certificationStatus}; its certification must be revoked before it can be deleted.`,
      );
    }
    await repo.deleteApp(tx, publisherId, appId);
  });
}
