// Certification reviewers: their accounts (created by operators, seeded in the sandbox), their
// keys (`mes_rk_…`, kept as SHA-256 like publishers' keys), and the `reviewerApiKey` security
// scheme of the spec.
import { randomUUID } from 'node:crypto';
import type { components } from '@mes/openapi';
import { bearerChallenge, bearerKey } from '../../core/bearer-key.js';
import { ProblemError } from '../../core/errors.js';
import type { SecurityScheme } from '../../core/operations.js';
import type { Queryable } from '../../core/store/db.js';
import { API_KEY_PREFIX, generateApiKey, hashApiKey } from '../catalog/index.js';

export type Reviewer = components['schemas']['Reviewer'];
export type ReviewerInput = components['schemas']['ReviewerInput'];

export const REVIEWER_KEY_PREFIX = 'mes_rk_';

interface ReviewerRow {
  id: string;
  login: string;
  name: string;
  email: string;
  publisher_ids: string[];
  created_at: Date;
  [key: string]: unknown;
}

const toReviewer = (row: ReviewerRow): Reviewer => ({
  id: row.id,
  login: row.login,
  name: row.name,
  email: row.email,
  publisherIds: row.publisher_ids,
  createdAt: row.created_at.toISOString(),
});

/** Creates a reviewer and their first key (shown once). Null when the login is taken. */
export async function createReviewer(db: Queryable, input: ReviewerInput): Promise<{ reviewer: Reviewer; apiKey: string } | null> {
  const rows = await db.query<ReviewerRow>(
    `INSERT INTO reviewers (id, login, name, email, publisher_ids) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (login) DO NOTHING RETURNING *`,
    [randomUUID(), input.login, input.name, input.email.toLowerCase(), [...new Set(input.publisherIds ?? [])]],
  );
  if (!rows[0]) return null;
  const key = generateApiKey(REVIEWER_KEY_PREFIX);
  await db.query('INSERT INTO reviewer_api_keys (id, reviewer_id, prefix, key_hash) VALUES ($1, $2, $3, $4)', [
    randomUUID(),
    rows[0].id,
    key.prefix,
    key.hash,
  ]);
  return { reviewer: toReviewer(rows[0]), apiKey: key.key };
}

export async function findReviewer(db: Queryable, id: string): Promise<Reviewer | null> {
  const rows = await db.query<ReviewerRow>('SELECT * FROM reviewers WHERE id = $1', [id]);
  return rows[0] ? toReviewer(rows[0]) : null;
}

export async function findReviewerByLogin(db: Queryable, login: string): Promise<Reviewer | null> {
  const rows = await db.query<ReviewerRow>('SELECT * FROM reviewers WHERE login = $1', [login]);
  return rows[0] ? toReviewer(rows[0]) : null;
}

/** The reviewer of a key, or null when the key is unknown or revoked. */
export async function authenticateReviewerKey(db: Queryable, key: string): Promise<{ reviewerId: string; apiKeyId: string } | null> {
  if (!key.startsWith(REVIEWER_KEY_PREFIX)) return null;
  const rows = await db.query<{ id: string; reviewer_id: string }>(
    `UPDATE reviewer_api_keys SET last_used_at = now()
     WHERE key_hash = $1 AND revoked_at IS NULL RETURNING id, reviewer_id`,
    [hashApiKey(key)],
  );
  return rows[0] ? { reviewerId: rows[0].reviewer_id, apiKeyId: rows[0].id } : null;
}

export function reviewerApiKeyScheme(db: Queryable): SecurityScheme {
  return {
    authScheme: 'bearer',
    challenge: 'Bearer realm="mes"',
    hint: 'your reviewer key as "Authorization: Bearer <key>"',
    claims: (credential) => credential.startsWith(REVIEWER_KEY_PREFIX),
    async authenticate(request) {
      const token = bearerKey(request, 'reviewer key');
      if (!token) throw new ProblemError('authentication_required', 'Send your reviewer key as "Authorization: Bearer <key>".', undefined, bearerChallenge());
      if (token.startsWith(API_KEY_PREFIX)) {
        throw new ProblemError('reviewer_required', 'This operation is for certification reviewers: a publisher key cannot call it.');
      }
      const found = await authenticateReviewerKey(db, token);
      if (!found) throw new ProblemError('invalid_api_key', 'The reviewer key is unknown or revoked.', undefined, bearerChallenge('invalid_token'));
      return { kind: 'reviewer', via: 'api_key', ...found };
    },
  };
}
