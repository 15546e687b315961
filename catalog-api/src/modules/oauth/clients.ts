// Use cases of OAuth clients: creation with key checks, key rotation, listing, deletion.
import type { components } from '@mes/openapi';
import { ProblemError } from '../../core/errors.js';
import { OutboundError, outboundUrl } from '../../core/outbound/safe-fetch.js';
import type { Queryable } from '../../core/store/db.js';
import { jwksProblems, type Jwks } from './client-keys.js';
import { RemoteKeysError, type RemoteKeySets } from './client-remote-keys.js';
import * as repo from './client-repository.js';

type ClientInput = components['schemas']['ClientInput'];

export interface ClientDeps {
  /** Fetches the key set of a `jwks_uri`; registering one is refused without it. */
  remoteKeys?: RemoteKeySets | undefined;
  /** Whether clients may register for Bearer access tokens (bearerTokensAllowed of the configuration). */
  bearerTokensAllowed?: boolean | undefined;
}

type ClientKeys = { jwks?: Jwks | undefined; jwksUri?: string | undefined };

/**
 * Checks the keys a confidential client registers. A `jwks_uri` is fetched now, so that a URL
 * that cannot be fetched, or holds no key this profile can use, is refused at registration
 * rather than at the client's first token request.
 */
async function checkKeys(keys: ClientKeys, pointer: string, deps: ClientDeps): Promise<void> {
  if (keys.jwks && keys.jwksUri) {
    throw new ProblemError('invalid_client_metadata', 'Give either jwks or jwksUri, not both.', [
      { pointer: `${pointer}/jwksUri`, detail: 'jwks is given too' },
    ]);
  }
  if (keys.jwks) {
    const problems = jwksProblems(keys.jwks, `${pointer}/jwks`);
    if (problems.length) throw new ProblemError('invalid_client_metadata', problems.map((p) => p.detail).join('; '), problems);
  }
  if (keys.jwksUri) {
    const refuse = (detail: string) =>
      new ProblemError('invalid_client_metadata', `jwksUri ${detail}.`, [{ pointer: `${pointer}/jwksUri`, detail }]);
    try {
      const url = outboundUrl(keys.jwksUri);
      if (url.hash) throw refuse('must not have a fragment');
      if (!deps.remoteKeys) throw refuse('cannot be fetched by this server; register the keys inline (jwks)');
      await deps.remoteKeys.load(keys.jwksUri);
    } catch (error) {
      if (error instanceof OutboundError || error instanceof RemoteKeysError) throw refuse(error.message);
      throw error;
    }
  }
}

export async function createClient(db: Queryable, appId: string, input: ClientInput, deps: ClientDeps = {}): Promise<repo.Client> {
  if (input.dpopBoundAccessTokens === false && !deps.bearerTokensAllowed) {
    throw new ProblemError(
      'invalid_client_metadata',
      'Bearer access tokens are not allowed on this platform: register a DPoP-bound client (dpopBoundAccessTokens true, the default). In the sandbox they always are.',
      [{ pointer: '/body/dpopBoundAccessTokens', detail: 'Bearer access tokens are not allowed here' }],
    );
  }
  if (input.type === 'public') {
    if (input.jwks || input.jwksUri) {
      throw new ProblemError('invalid_client_metadata', 'A public client does not authenticate: it registers no keys.', [
        { pointer: input.jwks ? '/body/jwks' : '/body/jwksUri', detail: 'not allowed for a public client' },
      ]);
    }
  } else {
    if (!input.jwks && !input.jwksUri) {
      throw new ProblemError('invalid_client_metadata', 'A confidential client needs jwks or jwksUri for private_key_jwt.', [
        { pointer: '/body/jwks', detail: 'jwks or jwksUri is required for a confidential client' },
      ]);
    }
    await checkKeys(input, '/body', deps);
  }
  return repo.insertClient(db, appId, input);
}

export async function replaceClientKeys(
  db: Queryable,
  appId: string,
  clientId: string,
  keys: ClientKeys,
  deps: ClientDeps = {},
): Promise<repo.Client> {
  const client = await repo.findClient(db, appId, clientId);
  if (!client) throw new ProblemError('not_found', `No client ${clientId}.`);
  if (client.type !== 'confidential') throw new ProblemError('client_not_confidential');
  await checkKeys(keys, '/body', deps);
  return (await repo.replaceKeys(db, appId, clientId, keys))!;
}
