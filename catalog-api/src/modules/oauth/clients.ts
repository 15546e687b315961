// Use cases of OAuth clients: creation with key checks, key rotation, listing, deletion.
import type { components } from '@mes/openapi';
import { ProblemError } from '../../core/errors.js';
import type { Queryable } from '../../core/store/db.js';
import { jwksProblems, type Jwks } from './client-keys.js';
import * as repo from './client-repository.js';

type ClientInput = components['schemas']['ClientInput'];

function checkKeys(keys: { jwks?: Jwks | undefined; jwksUri?: string | undefined }, pointer: string): void {
  if (keys.jwks && keys.jwksUri) {
    throw new ProblemError('invalid_client_metadata', 'Give either jwks or jwksUri, not both.', [
      { pointer: `${pointer}/jwksUri`, detail: 'jwks is given too' },
    ]);
  }
  if (keys.jwks) {
    const problems = jwksProblems(keys.jwks, `${pointer}/jwks`);
    if (problems.length) throw new ProblemError('invalid_client_metadata', problems.map((p) => p.detail).join('; '), problems);
  }
}

export async function createClient(db: Queryable, appId: string, input: ClientInput): Promise<repo.Client> {
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
    checkKeys(input, '/body');
  }
  return repo.insertClient(db, appId, input);
}

export async function replaceClientKeys(
  db: Queryable,
  appId: string,
  clientId: string,
  keys: { jwks?: Jwks | undefined; jwksUri?: string | undefined },
): Promise<repo.Client> {
  const client = await repo.findClient(db, appId, clientId);
  if (!client) throw new ProblemError('not_found', `No client ${clientId}.`);
  if (client.type !== 'confidential') throw new ProblemError('client_not_confidential');
  checkKeys(keys, '/body');
  return (await repo.replaceKeys(db, appId, clientId, keys))!;
}
