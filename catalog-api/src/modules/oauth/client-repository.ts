// SQL of OAuth clients.
import { randomBytes } from 'node:crypto';
import type { components } from '@mes/openapi';
import { StateCache } from '../../core/store/changes.js';
import type { Db, Queryable } from '../../core/store/db.js';
import type { Jwks } from './client-keys.js';

export type Client = components['schemas']['Client'];
export type ClientType = components['schemas']['ClientType'];

interface ClientRow {
  id: string;
  app_id: string;
  type: ClientType;
  jwks: Jwks | null;
  jwks_uri: string | null;
  dpop_bound_access_tokens: boolean;
  id_token_signed_response_alg: Client['idTokenSignedResponseAlg'];
  created_at: Date;
  updated_at: Date;
  [key: string]: unknown;
}

const iso = (value: Date) => new Date(value).toISOString();

function toClient(row: ClientRow): Client {
  return {
    clientId: row.id,
    appId: row.app_id,
    type: row.type,
    tokenEndpointAuthMethod: row.type === 'confidential' ? 'private_key_jwt' : 'none',
    jwks: row.jwks,
    jwksUri: row.jwks_uri,
    dpopBoundAccessTokens: row.dpop_bound_access_tokens,
    idTokenSignedResponseAlg: row.id_token_signed_response_alg,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** Client ids are public identifiers, but random ones do not reveal how many clients exist. */
const newClientId = () => `mes_${randomBytes(16).toString('base64url')}`;

export async function insertClient(
  db: Queryable,
  appId: string,
  client: {
    type: ClientType;
    jwks?: Jwks | undefined;
    jwksUri?: string | undefined;
    dpopBoundAccessTokens?: boolean | undefined;
    idTokenSignedResponseAlg?: Client['idTokenSignedResponseAlg'] | undefined;
  },
): Promise<Client> {
  const rows = await db.query<ClientRow>(
    `INSERT INTO oauth_clients (id, app_id, type, jwks, jwks_uri, dpop_bound_access_tokens, id_token_signed_response_alg)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [
      newClientId(),
      appId,
      client.type,
      client.jwks ? JSON.stringify(client.jwks) : null,
      client.jwksUri ?? null,
      client.dpopBoundAccessTokens ?? true,
      client.idTokenSignedResponseAlg ?? 'RS256',
    ],
  );
  return toClient(rows[0]!);
}

export async function listClients(db: Queryable, appId: string): Promise<Client[]> {
  const rows = await db.query<ClientRow>('SELECT * FROM oauth_clients WHERE app_id = $1 ORDER BY created_at, id', [appId]);
  return rows.map(toClient);
}

export async function findClient(db: Queryable, appId: string, clientId: string): Promise<Client | null> {
  const rows = await db.query<ClientRow>('SELECT * FROM oauth_clients WHERE app_id = $1 AND id = $2', [appId, clientId]);
  return rows[0] ? toClient(rows[0]) : null;
}

export async function replaceKeys(
  db: Queryable,
  appId: string,
  clientId: string,
  keys: { jwks?: Jwks | undefined; jwksUri?: string | undefined },
): Promise<Client | null> {
  const rows = await db.query<ClientRow>(
    `UPDATE oauth_clients SET jwks = $3, jwks_uri = $4, updated_at = now()
     WHERE app_id = $1 AND id = $2 AND type = 'confidential' RETURNING *`,
    [appId, clientId, keys.jwks ? JSON.stringify(keys.jwks) : null, keys.jwksUri ?? null],
  );
  return rows[0] ? toClient(rows[0]) : null;
}

export async function deleteClient(db: Queryable, appId: string, clientId: string): Promise<boolean> {
  return (await db.query('DELETE FROM oauth_clients WHERE app_id = $1 AND id = $2 RETURNING id', [appId, clientId])).length === 1;
}

export type CertificationStatus = components['schemas']['CertificationStatus'];

/** A client as the OAuth endpoints meet it: by its `client_id` alone, with its app's certification status. */
export interface ClientWithApp extends Client {
  appCertificationStatus: CertificationStatus;
  appName: string;
  /** The app's registered redirect URIs, matched exactly at the authorization endpoint. */
  redirectUris: string[];
  /** The scopes the app's working version asks for. */
  appScopes: string[];
  /** What the app's certified version covers, once a version is certified (see versionInForce). */
  certified: { redirectUris: string[]; scopes: string[] } | null;
}

export async function findClientById(db: Queryable, clientId: string): Promise<ClientWithApp | null> {
  const rows = await db.query<
    ClientRow & {
      certification_status: CertificationStatus;
      app_name: string;
      redirect_uris: string[];
      scopes: { scope: string }[];
      certified_redirect_uris: string[] | null;
      certified_scopes: string[] | null;
    }
  >(
    `SELECT c.*, a.certification_status, a.name AS app_name, a.redirect_uris, a.scopes, a.certified_redirect_uris, a.certified_scopes
     FROM oauth_clients c JOIN apps a ON a.id = c.app_id WHERE c.id = $1`,
    [clientId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    ...toClient(row),
    appCertificationStatus: row.certification_status,
    appName: row.app_name,
    redirectUris: row.redirect_uris,
    appScopes: row.scopes.map((s) => s.scope),
    certified: row.certified_redirect_uris && row.certified_scopes ? { redirectUris: row.certified_redirect_uris, scopes: row.certified_scopes } : null,
  };
}

/** The tables a client's registration and its app's state are read from. */
const CLIENT_TABLES = ['oauth_clients', 'apps'] as const;

/**
 * Clients as registered, with their app, kept in memory for the token endpoint and dropped on any
 * change to a client or an app (through this instance or another: core/store/changes.ts); while
 * changes from other instances cannot reach this one, an entry is kept one second at most. What
 * must hold at the next request (the app's certification status, the grant) is read again with
 * the refresh token, in the same statement.
 */
export function clientCache(db: Db): StateCache<ClientWithApp | null> & { find(clientId: string): Promise<ClientWithApp | null> } {
  const cache = new StateCache<ClientWithApp | null>(db.changes, CLIENT_TABLES, { max: 10_000, maxAgeMs: 60_000, fallbackMaxAgeMs: 1000 });
  return Object.assign(cache, { find: (clientId: string) => cache.get(clientId, () => findClientById(db, clientId)) });
}
