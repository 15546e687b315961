// SQL of pushed authorization requests, grants and authorization codes.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../../core/store/db.js';
import type { CertificationStatus } from '../catalog/index.js';
import { firstUseSql, firstUsesParameters, firstUsesSql, type PendingFirstUse } from './replay-cache.js';

export const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
export const randomToken = () => randomBytes(32).toString('base64url');

export interface AuthorizationParams {
  client_id: string;
  redirect_uri: string;
  scope: string;
  state?: string | undefined;
  code_challenge: string;
  dpop_jkt?: string | undefined;
  login_hint?: string | undefined;
  nonce?: string | undefined;
  /** The opaque value of a SMART EHR launch (launches.ts). */
  launch?: string | undefined;
}

export async function insertPushedRequest(db: Queryable, clientId: string, params: AuthorizationParams, lifetimeSeconds: number): Promise<string> {
  const requestUri = `urn:ietf:params:oauth:request_uri:${randomToken()}`;
  await db.query(
    `INSERT INTO oauth_pushed_requests (request_uri, client_id, params, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [requestUri, clientId, JSON.stringify(params), lifetimeSeconds],
  );
  return requestUri;
}

/** Takes a pushed request once: null when unknown, used, expired or pushed by another client. */
export async function takePushedRequest(db: Queryable, requestUri: string, clientId: string): Promise<AuthorizationParams | null> {
  const rows = await db.query<{ params: AuthorizationParams }>(
    `UPDATE oauth_pushed_requests SET used_at = now()
     WHERE request_uri = $1 AND client_id = $2 AND used_at IS NULL AND expires_at > now()
     RETURNING params`,
    [requestUri, clientId],
  );
  return rows[0]?.params ?? null;
}

export interface Grant {
  id: string;
  appId: string;
  clientId: string;
  patientId: string;
  actorId: string;
  scope: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export async function insertGrant(
  db: Queryable,
  grant: { appId: string; clientId: string; patientId: string; actorId: string; scope: string; expiresAt: Date | null },
): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO grants (id, app_id, client_id, patient_id, actor_id, scope, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [id, grant.appId, grant.clientId, grant.patientId, grant.actorId, grant.scope, grant.expiresAt],
  );
  return id;
}

/**
 * Why a grant was revoked, as written in `grants.revoked_reason`: the patient's pages show it, and
 * token-state.ts (`grantEnded`) turns it into the `grant_ended` a client is told. The texts are
 * stored: never reword one, grants revoked before would no longer be recognised.
 */
export const RevocationReason = {
  /** The patient (or the guardian who approved) withdrew the app's access; also the sandbox's withdraw control. */
  withdrawnByPatient: 'withdrawn by the patient',
  /** The patient opposed access to their record by apps: every grant for or by them ends. */
  opposedToApps: 'patient opposed to access by apps',
  accountClosed: 'patient account closed',
  /** A code redeemed twice may have been stolen: the grant issued from it ends. */
  codeReplayed: 'authorization code replayed',
  /** A public client's rotated refresh token presented again is taken as theft. */
  refreshTokenReused: 'rotated refresh token reused',
  /** The client ended the grant itself (RFC 7009). */
  revokedByClient: 'refresh token revoked by the client',
} as const;
export type RevocationReason = (typeof RevocationReason)[keyof typeof RevocationReason];

/** Ends a grant: every token issued under it stops working at its next use. */
export async function revokeGrant(db: Queryable, grantId: string, reason: RevocationReason): Promise<boolean> {
  const rows = await db.query(`UPDATE grants SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id`, [
    grantId,
    reason,
  ]);
  return rows.length === 1;
}

export async function insertCode(
  db: Queryable,
  code: {
    grantId: string;
    clientId: string;
    redirectUri: string;
    codeChallenge: string;
    dpopJkt?: string | undefined;
    nonce?: string | undefined;
    scope: string;
  },
  lifetimeSeconds: number,
): Promise<string> {
  const value = randomToken();
  await db.query(
    `INSERT INTO oauth_codes (code_hash, grant_id, client_id, redirect_uri, code_challenge, dpop_jkt, nonce, scope, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
    [sha256(value), code.grantId, code.clientId, code.redirectUri, code.codeChallenge, code.dpopJkt ?? null, code.nonce ?? null, code.scope, lifetimeSeconds],
  );
  return value;
}

export interface RedeemedCode {
  grantId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  dpopJkt: string | null;
  nonce: string | null;
  scope: string;
  expired: boolean;
  /** True when the code had been redeemed before: a replay. */
  replayed: boolean;
  grant: GrantState;
}

/**
 * Marks a code used and returns it with its grant. Concurrent redemptions are serialized by the
 * row lock: exactly one sees `replayed: false`.
 */
export async function redeemCode(db: Queryable, code: string): Promise<RedeemedCode | null> {
  const rows = await db.query<
    GrantStateRow & {
      grant_id: string;
      client_id: string;
      redirect_uri: string;
      code_challenge: string;
      dpop_jkt: string | null;
      nonce: string | null;
      scope: string;
      expired: boolean;
      replayed: boolean;
    }
  >(
    `WITH target AS (
       SELECT code_hash, used_at IS NOT NULL AS replayed FROM oauth_codes WHERE code_hash = $1 FOR UPDATE
     ), marked AS (
       UPDATE oauth_codes c SET used_at = COALESCE(c.used_at, now()) FROM target t WHERE c.code_hash = t.code_hash
       RETURNING c.*, t.replayed
     )
     SELECT m.grant_id, m.client_id, m.redirect_uri, m.code_challenge, m.dpop_jkt, m.nonce, m.scope, m.replayed,
            m.expires_at <= now() AS expired, ${grantStateColumns}
     FROM marked m JOIN grants g ON g.id = m.grant_id JOIN apps a ON a.id = g.app_id`,
    [sha256(code)],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    grantId: row.grant_id,
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    codeChallenge: row.code_challenge,
    dpopJkt: row.dpop_jkt,
    nonce: row.nonce,
    scope: row.scope,
    expired: row.expired,
    replayed: row.replayed,
    grant: toGrantState(row),
  };
}

export async function insertRefreshToken(db: Queryable, token: { grantId: string; clientId: string; jkt: string | null; scope: string }): Promise<string> {
  const value = randomToken();
  await db.query(`INSERT INTO oauth_refresh_tokens (token_hash, grant_id, client_id, jkt, scope) VALUES ($1, $2, $3, $4, $5)`, [
    sha256(value),
    token.grantId,
    token.clientId,
    token.jkt,
    token.scope,
  ]);
  return value;
}

export interface RefreshTokenState {
  tokenHash: string;
  grantId: string;
  clientId: string;
  /** The DPoP key of the token requests that may use it; null for a Bearer client's. */
  jkt: string | null;
  scope: string;
  rotated: boolean;
  revoked: boolean;
  grant: GrantState;
}

/** What decides whether a grant's tokens work, and if not why (token-state.ts, `grantEnded`). */
export interface GrantState {
  patientId: string;
  actorId: string;
  appId: string;
  /** Withdrawn or revoked for cause; `revokedReason` says why (a RevocationReason, or an older text). */
  revoked: boolean;
  revokedReason: string | null;
  /** Past the end the patient chose. */
  expired: boolean;
  certificationStatus: CertificationStatus;
  clientExists: boolean;
  /** Access tokens of the client issued before this instant no longer work (the sandbox's "expire now"). */
  tokensNotBefore: Date | null;
}

const grantStateColumns = `g.patient_id, g.actor_id, g.app_id,
  g.revoked_at IS NOT NULL AS grant_revoked, g.revoked_reason AS grant_revoked_reason,
  (g.expires_at IS NOT NULL AND g.expires_at <= now()) AS grant_expired,
  a.certification_status, EXISTS (SELECT 1 FROM oauth_clients c WHERE c.id = g.client_id) AS client_exists,
  (SELECT t.not_before FROM client_token_cutoffs t WHERE t.client_id = g.client_id) AS tokens_not_before`;

type GrantStateRow = {
  patient_id: string;
  actor_id: string;
  app_id: string;
  grant_revoked: boolean;
  grant_revoked_reason: string | null;
  grant_expired: boolean;
  certification_status: CertificationStatus;
  client_exists: boolean;
  tokens_not_before: Date | null;
};

const toGrantState = (row: GrantStateRow): GrantState => ({
  patientId: row.patient_id,
  actorId: row.actor_id,
  appId: row.app_id,
  revoked: row.grant_revoked,
  revokedReason: row.grant_revoked_reason,
  expired: row.grant_expired,
  certificationStatus: row.certification_status,
  clientExists: row.client_exists,
  tokensNotBefore: row.tokens_not_before ? new Date(row.tokens_not_before) : null,
});

/** The state of a grant by its id (null when it is gone), for judging with token-state.ts's grantEnded. */
export async function grantState(db: Queryable, grantId: string): Promise<GrantState | null> {
  const rows = await db.query<GrantStateRow>(`SELECT ${grantStateColumns} FROM grants g JOIN apps a ON a.id = g.app_id WHERE g.id = $1`, [grantId]);
  return rows[0] ? toGrantState(rows[0]) : null;
}

type RefreshTokenRow = GrantStateRow & { token_hash: string; grant_id: string; client_id: string; jkt: string | null; scope: string; rotated: boolean; revoked: boolean };

const refreshTokenSelect = (tokenParameter: string, forUpdate: boolean) =>
  `SELECT r.token_hash, r.grant_id, r.client_id, r.jkt, r.scope, r.rotated_at IS NOT NULL AS rotated, r.revoked_at IS NOT NULL AS revoked,
          ${grantStateColumns}
   FROM oauth_refresh_tokens r JOIN grants g ON g.id = r.grant_id JOIN apps a ON a.id = g.app_id
   WHERE r.token_hash = ${tokenParameter} ${forUpdate ? 'FOR UPDATE OF r' : ''}`;

/** A refresh token and the state of its grant (introspection, revocation). */
export async function findRefreshToken(db: Queryable, token: string): Promise<RefreshTokenState | null> {
  const rows = await db.query<RefreshTokenRow>(refreshTokenSelect('$1', false), [sha256(token)]);
  return rows[0] ? toRefreshTokenState(rows[0]) : null;
}

/** What a refresh needs to read, with the request's one-time identifiers recorded (refreshState). */
export interface RefreshState {
  /**
   * False when the client's keys are no longer those the request was authenticated with (changed
   * through another instance, or the client deleted): nothing was recorded, authenticate again.
   */
  sameClient: boolean;
  /** The namespaces of the identifiers recorded now; one missing was used before (a replay). */
  firstUses: ReadonlySet<string>;
  /** The certification status of the client's app now. */
  clientAppStatus: CertificationStatus | null;
  token: RefreshTokenState | null;
}

/** The client a request was authenticated as: its identifier and the keys that verified it. */
export interface AuthenticatedAs {
  clientId: string;
  jwks: unknown;
  jwksUri: string | null | undefined;
}

/**
 * A refresh's reads and checks in one statement: the client's keys compared with those the
 * request was authenticated with, then (only if they are the same) the request's one-time
 * identifiers (DPoP proof, client assertion) recorded, the client's app status, and the refresh
 * token with its grant's state (locked for the exchange when `forUpdate`, in the caller's
 * transaction).
 */
export async function refreshState(db: Queryable, token: string, client: AuthenticatedAs, uses: readonly PendingFirstUse[], forUpdate: boolean): Promise<RefreshState> {
  const rows = await db.query<Partial<RefreshTokenRow> & { same_client: boolean; first_uses: string[]; client_app_status: CertificationStatus | null }>(
    `WITH client AS (
       SELECT ca.certification_status, c.jwks IS NOT DISTINCT FROM $5::jsonb AND c.jwks_uri IS NOT DISTINCT FROM $6::text AS same_keys
       FROM oauth_clients c JOIN apps ca ON ca.id = c.app_id WHERE c.id = $4
     ),
     first_use AS (${firstUsesSql(1, 'EXISTS (SELECT 1 FROM client WHERE same_keys)')})
     SELECT COALESCE((SELECT same_keys FROM client), false) AS same_client, ARRAY(SELECT namespace FROM first_use) AS first_uses,
       (SELECT certification_status FROM client) AS client_app_status, t.*
     FROM (SELECT 1) one LEFT JOIN LATERAL (${refreshTokenSelect('$7', forUpdate)}) t ON true`,
    [...firstUsesParameters(uses), client.clientId, client.jwks ? JSON.stringify(client.jwks) : null, client.jwksUri ?? null, sha256(token)],
  );
  const row = rows[0]!;
  return {
    sameClient: row.same_client,
    firstUses: new Set(row.first_uses),
    clientAppStatus: row.client_app_status,
    token: row.token_hash ? toRefreshTokenState(row as RefreshTokenRow) : null,
  };
}

function toRefreshTokenState(row: RefreshTokenRow): RefreshTokenState {
  return {
    tokenHash: row.token_hash,
    grantId: row.grant_id,
    clientId: row.client_id,
    jkt: row.jkt,
    scope: row.scope,
    rotated: row.rotated,
    revoked: row.revoked,
    grant: toGrantState(row),
  };
}

export async function markRefreshTokenRotated(db: Queryable, tokenHash: string): Promise<void> {
  await db.query('UPDATE oauth_refresh_tokens SET rotated_at = now() WHERE token_hash = $1', [tokenHash]);
}

/** What a resource request needs to know of its token, read in one statement (accessState). */
export interface AccessState {
  /** The proof's identifier was recorded now (false: it was seen before, a replay); true when none was given. */
  firstUse: boolean;
  grant: GrantState | null;
  /** The access token was revoked on its own. */
  tokenRevoked: boolean;
  /** The grant's approver may still act for its patient (true when they are the patient). */
  mayAct: boolean;
}

type AccessStateRow = GrantStateRow & { first_use: boolean; token_revoked: boolean; may_act: boolean | null };

/**
 * accessState's statement as parts of another: `first_use` and `access` (one row: accessState's
 * columns), to put in the WITH of a statement whose parameters start with `params`. `ready` is a
 * condition for the rest of that statement's work: the proof was not seen before and the grant
 * exists, is the token's patient's and is not revoked (the rest is judged from the row).
 */
export function accessStateQuery(grantId: string, tokenJti: string, proof: PendingFirstUse | undefined, patientId: string) {
  return {
    ctes: `first_use AS (${firstUseSql(3)}),
     access AS (
       SELECT $3::text IS NULL OR EXISTS (SELECT 1 FROM first_use) AS first_use,
         EXISTS (SELECT 1 FROM oauth_revoked_access_tokens WHERE jti = $2) AS token_revoked,
         s.*
       FROM (SELECT 1) one LEFT JOIN LATERAL (
         SELECT ${grantStateColumns},
           g.actor_id = g.patient_id OR EXISTS (SELECT 1 FROM patient_guardians pg WHERE pg.guardian_id = g.actor_id AND pg.child_id = g.patient_id
             AND (pg.valid_until IS NULL OR pg.valid_until > current_date)) AS may_act
         FROM grants g JOIN apps a ON a.id = g.app_id WHERE g.id = $1
       ) s ON true
     )`,
    params: [grantId, tokenJti, proof?.namespace ?? null, proof?.jti ?? null, proof?.expiresAt ?? null, patientId] as unknown[],
    ready: `EXISTS (SELECT 1 FROM access WHERE first_use AND patient_id = $6::text AND NOT grant_revoked AND NOT token_revoked)`,
  };
}

/** The state a statement made with accessStateQuery returned, from its row (accessState's columns). */
export function accessStateOf(row: Record<string, unknown>): AccessState {
  const state = row as AccessStateRow;
  return {
    firstUse: state.first_use,
    grant: state.patient_id === null ? null : toGrantState(state),
    tokenRevoked: state.token_revoked,
    mayAct: state.may_act ?? false,
  };
}

/**
 * Everything a request with an access token checks in the store, in one statement: the proof's
 * identifier recorded (a replay is refused, even on another instance), the grant's state, the
 * token's own revocation, and whether a guardian's authority still holds. Nothing is read from
 * memory: a withdrawal or a suspension through any instance holds at the next request. The FHIR
 * API's reads and searches run the same statement as part of their own (accessStateQuery).
 */
export async function accessState(db: Queryable, grantId: string, tokenJti: string, proof: PendingFirstUse | undefined): Promise<AccessState> {
  const { ctes, params } = accessStateQuery(grantId, tokenJti, proof, '');
  const rows = await db.query<AccessStateRow>(`WITH ${ctes} SELECT * FROM access`, params.slice(0, 5));
  return accessStateOf(rows[0]!);
}

export async function revokeAccessToken(db: Queryable, jti: string, expiresAt: Date): Promise<void> {
  // Entries past the token's expiry serve no purpose (it is refused as expired anyway): the sweep deletes them.
  await db.query('INSERT INTO oauth_revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING', [jti, expiresAt]);
}

/** Ends every active grant for or by a person (patient or acting guardian); returns how many. */
export async function revokeGrantsOfPerson(db: Queryable, personId: string, reason: RevocationReason): Promise<number> {
  const rows = await db.query(
    `UPDATE grants SET revoked_at = now(), revoked_reason = $2
     WHERE (patient_id = $1 OR actor_id = $1) AND revoked_at IS NULL RETURNING id`,
    [personId, reason],
  );
  return rows.length;
}

/** A grant as its patient sees it in "my connected apps". */
export interface GrantSummary {
  id: string;
  appId: string;
  appName: string;
  appCertificationStatus: CertificationStatus;
  patientId: string;
  actorId: string;
  scope: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  revokedReason: string | null;
  /** Not withdrawn, not revoked, not past its end. */
  active: boolean;
}

/**
 * The grants given for or by a person (the patient, or a guardian acting for a child), newest
 * first, at most `limit`.
 */
export async function grantsOfPerson(db: Queryable, personId: string, limit: number): Promise<GrantSummary[]> {
  const rows = await db.query<{
    id: string;
    app_id: string;
    app_name: string;
    certification_status: CertificationStatus;
    patient_id: string;
    actor_id: string;
    scope: string;
    created_at: Date;
    expires_at: Date | null;
    revoked_at: Date | null;
    revoked_reason: string | null;
    active: boolean;
  }>(
    `SELECT g.id, g.app_id, a.name AS app_name, a.certification_status, g.patient_id, g.actor_id, g.scope,
            g.created_at, g.expires_at, g.revoked_at, g.revoked_reason,
            (g.revoked_at IS NULL AND (g.expires_at IS NULL OR g.expires_at > now())) AS active
     FROM grants g JOIN apps a ON a.id = g.app_id
     WHERE g.patient_id = $1 OR g.actor_id = $1
     ORDER BY g.created_at DESC, g.id LIMIT $2`,
    [personId, limit],
  );
  return rows.map((row) => ({
    id: row.id,
    appId: row.app_id,
    appName: row.app_name,
    appCertificationStatus: row.certification_status,
    patientId: row.patient_id,
    actorId: row.actor_id,
    scope: row.scope,
    createdAt: new Date(row.created_at),
    expiresAt: row.expires_at ? new Date(row.expires_at) : null,
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    revokedReason: row.revoked_reason,
    active: row.active,
  }));
}

/** Ends a grant given for or by `personId`; false when it is not theirs or not active. */
export async function revokeGrantOfPerson(db: Queryable, grantId: string, personId: string, reason: RevocationReason): Promise<boolean> {
  const rows = await db.query(
    `UPDATE grants SET revoked_at = now(), revoked_reason = $3
     WHERE id = $1 AND (patient_id = $2 OR actor_id = $2) AND revoked_at IS NULL RETURNING id`,
    [grantId, personId, reason],
  );
  return rows.length === 1;
}

export interface Interaction {
  clientId: string;
  request: AuthorizationParams;
  allowedScope: string;
  issuer: string;
  /** For a request that came from a launch: the patient it is for, and who launched it. */
  launch: { patientId: string; actorId: string } | null;
}

/** Keeps a request waiting for the patient; returns the interaction id for the page's URL. */
export async function insertInteraction(db: Queryable, interaction: Interaction, lifetimeSeconds: number): Promise<string> {
  const id = randomToken();
  await db.query(
    `INSERT INTO authorization_interactions (id_hash, client_id, request, allowed_scope, issuer, launch_context, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
    [
      sha256(id),
      interaction.clientId,
      JSON.stringify(interaction.request),
      interaction.allowedScope,
      interaction.issuer,
      interaction.launch ? JSON.stringify(interaction.launch) : null,
      lifetimeSeconds,
    ],
  );
  return id;
}

type InteractionRow = { client_id: string; request: AuthorizationParams; allowed_scope: string; issuer: string; launch_context: Interaction['launch'] };
const interactionColumns = 'client_id, request, allowed_scope, issuer, launch_context';
const toInteraction = (row: InteractionRow): Interaction => ({
  clientId: row.client_id,
  request: row.request,
  allowedScope: row.allowed_scope,
  issuer: row.issuer,
  launch: row.launch_context ?? null,
});

/** A waiting interaction, without using it up. */
export async function findInteraction(db: Queryable, id: string): Promise<Interaction | null> {
  const rows = await db.query<InteractionRow>(
    `SELECT ${interactionColumns} FROM authorization_interactions WHERE id_hash = $1 AND used_at IS NULL AND expires_at > now()`,
    [sha256(id)],
  );
  return rows[0] ? toInteraction(rows[0]) : null;
}

/** Uses a waiting interaction up: only the first taker gets it. */
export async function takeInteraction(db: Queryable, id: string): Promise<Interaction | null> {
  const rows = await db.query<InteractionRow>(
    `UPDATE authorization_interactions SET used_at = now() WHERE id_hash = $1 AND used_at IS NULL AND expires_at > now()
     RETURNING ${interactionColumns}`,
    [sha256(id)],
  );
  return rows[0] ? toInteraction(rows[0]) : null;
}

/**
 * The newest active grant of an app for a patient, approved by this person (not withdrawn, not
 * revoked, not past its end), with its scope and end; null when there is none.
 */
export async function activeGrantOf(db: Queryable, grant: { appId: string; patientId: string; actorId: string }): Promise<{ id: string; scope: string; expiresAt: Date | null } | null> {
  const rows = await db.query<{ id: string; scope: string; expires_at: Date | null }>(
    `SELECT id, scope, expires_at FROM grants
     WHERE app_id = $1 AND patient_id = $2 AND actor_id = $3 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
     ORDER BY created_at DESC, id LIMIT 1`,
    [grant.appId, grant.patientId, grant.actorId],
  );
  const row = rows[0];
  return row ? { id: row.id, scope: row.scope, expiresAt: row.expires_at ? new Date(row.expires_at) : null } : null;
}

/** Ends the active grants of a client (or of every client with null), of one patient when given; returns how many. */
export async function revokeGrantsOfClient(db: Queryable, clientId: string | null, patientId: string | undefined, reason: RevocationReason): Promise<number> {
  const rows = await db.query(
    `UPDATE grants SET revoked_at = now(), revoked_reason = $3
     WHERE ($1::text IS NULL OR client_id = $1) AND ($2::text IS NULL OR patient_id = $2) AND revoked_at IS NULL RETURNING id`,
    [clientId, patientId ?? null, reason],
  );
  return rows.length;
}
