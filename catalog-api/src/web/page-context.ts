// What every patient page needs to know about its request before it renders: the language, the
// page's own path (for the language switch and sign-in return), whether this is the sandbox, and
// who is signed in (with their name, for the header).
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../core/config.js';
import type { Queryable } from '../core/store/db.js';
import { childrenOf, patientSummaries, type PatientSummary } from '../modules/records/index.js';
import { languageOf, type Lang } from './i18n.js';
import type { PageView } from './layout.js';
import { signOutFormTargets } from './oidc/sign-out-targets.js';
import { fromOwnOrigin, sameToken, type PatientSession, type PatientSessions } from './patient-session.js';

export interface PageContext {
  lang: Lang;
  path: string;
  sandbox: boolean;
  session: PatientSession | null;
  signedIn: PageView['signedIn'];
  /** Where the header's sign-out form may lead: the identity provider's logout, when there is one. */
  formTargets: string[];
}

export interface PageDeps {
  db: Queryable;
  config: AppConfig;
  sessions: PatientSessions;
}

/** The context of a page request; `session` may be passed when the caller already read it. */
export async function pageContext(deps: PageDeps, request: FastifyRequest, session?: PatientSession | null): Promise<PageContext> {
  const current = session === undefined ? await deps.sessions.current(request) : session;
  const [person] = current ? await patientSummaries(deps.db, [current.patientId]) : [];
  return {
    lang: languageOf(request),
    path: request.url,
    sandbox: deps.config.mode === 'sandbox',
    session: current,
    signedIn: current ? { name: person?.name ?? current.patientId, csrfToken: current.csrfToken } : null,
    formTargets: current ? signOutFormTargets(deps.config) : [],
  };
}

/**
 * Whether a posted form is the signed-in person's own: a session, the platform's own Origin, and
 * the session's CSRF token. Every form of the patient pages is checked with it.
 */
export function ownForm(ctx: PageContext, request: FastifyRequest, issuer: string, csrfToken: string | undefined): ctx is PageContext & { session: PatientSession } {
  return ctx.session !== null && fromOwnOrigin(request, issuer) && csrfToken !== undefined && sameToken(csrfToken, ctx.session.csrfToken);
}

/** The people whose records a person sees on their pages: themselves (first), then the children they act for, by id. */
export interface Household {
  ids: string[];
  children: Map<string, PatientSummary>;
}

export async function householdOf(db: Queryable, personId: string): Promise<Household> {
  const children = await childrenOf(db, personId);
  const summaries = await patientSummaries(db, children);
  return { ids: [personId, ...children], children: new Map(summaries.map((person) => [person.id, person])) };
}
