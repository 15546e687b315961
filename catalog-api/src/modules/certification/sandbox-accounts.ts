// The sandbox's seeded accounts, for signing in from the command line without keys
// (`mes login --sandbox-user <name>`): the demo publisher and three reviewers, one of them linked
// to the demo publisher (so the conflict rule can be seen at work). Sandbox only.
import type { Queryable } from '../../core/store/db.js';
import { findPublisherByRegistrationNumber } from '../catalog/index.js';
import { scopeForRole } from '../oauth/device.js';
import { createReviewer, findReviewerByLogin } from './reviewers.js';

/** The demo publisher's registration number (the sandbox seed registers it). */
export const SANDBOX_DEMO_PUBLISHER_REGISTRATION = '90000000000001';

const sandboxReviewers = [
  { login: 'reviewer-a', name: 'Relectrice A (sandbox)', email: 'reviewer-a@certification.sandbox.example', linked: false },
  { login: 'reviewer-b', name: 'Relecteur B (sandbox)', email: 'reviewer-b@certification.sandbox.example', linked: false },
  { login: 'reviewer-linked', name: 'Relecteur lié à l’éditeur démo (sandbox)', email: 'reviewer-linked@certification.sandbox.example', linked: true },
] as const;

export const sandboxUsers = ['demo-publisher', ...sandboxReviewers.map((reviewer) => reviewer.login)] as const;

/** Creates the sandbox reviewers that do not exist yet (after the demo publisher, which one is linked to). */
export async function seedSandboxReviewers(db: Queryable): Promise<void> {
  const demo = await findPublisherByRegistrationNumber(db, SANDBOX_DEMO_PUBLISHER_REGISTRATION);
  for (const { linked, ...reviewer } of sandboxReviewers) {
    if (await findReviewerByLogin(db, reviewer.login)) continue;
    await createReviewer(db, { ...reviewer, publisherIds: linked && demo ? [demo.id] : [] });
  }
}

/** The approval a seeded account gives a pending sign-in, or null when `user` is not one. */
export async function sandboxApproval(db: Queryable, user: string, requestedScope: string) {
  if (user === 'demo-publisher') {
    const publisher = await findPublisherByRegistrationNumber(db, SANDBOX_DEMO_PUBLISHER_REGISTRATION);
    if (!publisher) return null;
    return { kind: 'publisher' as const, subject: `publisher:${publisher.id}`, scope: scopeForRole(requestedScope, 'publisher') };
  }
  if (!sandboxReviewers.some((reviewer) => reviewer.login === user)) return null;
  const reviewer = await findReviewerByLogin(db, user);
  if (!reviewer) return null;
  return { kind: 'reviewer' as const, subject: `reviewer:${reviewer.id}`, scope: scopeForRole(requestedScope, 'reviewer') };
}
