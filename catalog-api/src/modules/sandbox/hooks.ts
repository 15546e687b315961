// In sandbox mode, around the requests of apps' clients (authorization endpoint, token endpoint,
// FHIR API): a pending injected failure answers instead of the real handler (or delays it), and
// every request is recorded in the client's traffic when its answer has left, with what the answer
// said when it told the client that its grant had ended (real or injected).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../../core/store/db.js';
import { pendingAccessRefusal } from '../../core/operations.js';
import { unverifiedClaims } from '../oauth/index.js';
import { faultAnswer, takeFault } from './faults.js';
import { recordTraffic, type TrafficDetails } from './traffic.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The fault that answered this request, if one did. */
    sandboxFault?: string;
    /** Why the token endpoint said the grant ended (`grant_ended` of its error JSON), if it did. */
    sandboxGrantEnded?: string;
  }
}

const clientOperations = new Set(['authorize', 'pushAuthorizationRequest', 'token', 'revokeToken', 'introspectToken']);
const interactionOf = (operationId: string): TrafficDetails['interaction'] =>
  (['search', 'read', 'create', 'update'] as const).find((interaction) => operationId.startsWith(interaction));

type Form = Record<string, string | undefined>;

/** The `sub` of a JWT, unverified: only to tell whose traffic a request is. */
function unverifiedClaim(jwt: string | undefined, claim: 'sub' | 'client_id'): string | undefined {
  if (!jwt) return undefined;
  try {
    const value = unverifiedClaims(jwt)[claim];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** What a client id looks like: an unverified one that does not is nobody's (and is not looked up). */
const clientIdShape = /^[A-Za-z0-9_-]{1,64}$/;

/** The client a request comes from, if it is an app's request the sandbox follows. */
function clientOf(request: FastifyRequest): { clientId: string; target: 'token' | 'fhir' | null; fhir: boolean } | null {
  const client = claimedClientOf(request);
  return client && clientIdShape.test(client.clientId) ? client : null;
}

function claimedClientOf(request: FastifyRequest): { clientId: string; target: 'token' | 'fhir' | null; fhir: boolean } | null {
  const operationId = request.routeOptions.config?.operationId;
  if (!operationId) return null;
  if (request.routeOptions.config.errorFormat === 'fhir' && operationId !== 'getFhirCapabilities') {
    const principal = request.principal;
    const clientId =
      principal?.kind === 'patient_data' ? principal.clientId : unverifiedClaim(/^(?:DPoP|Bearer)\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1], 'client_id');
    return clientId ? { clientId, target: 'fhir', fhir: true } : null;
  }
  if (!clientOperations.has(operationId)) return null;
  const form = ((operationId === 'authorize' ? request.query : request.body) ?? {}) as Form;
  const clientId = form.client_id ?? unverifiedClaim(form.client_assertion, 'sub');
  if (!clientId) return null;
  return { clientId, target: operationId === 'token' || operationId === 'pushAuthorizationRequest' ? 'token' : null, fhir: false };
}

/** The `grant_ended` of a FHIR API challenge (`WWW-Authenticate: DPoP …, grant_ended="…"`). */
function challengeGrantEnded(reply: FastifyReply): string | undefined {
  const challenge = reply.getHeader('www-authenticate');
  return typeof challenge === 'string' ? /\bgrant_ended="([^"]*)"/.exec(challenge)?.[1] : undefined;
}

/** The `grant_ended` member of a token endpoint's error JSON, if the payload is one. */
function bodyGrantEnded(payload: unknown): string | undefined {
  const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
  if (!text) return undefined;
  try {
    const ended = (JSON.parse(text) as { grant_ended?: unknown }).grant_ended;
    return typeof ended === 'string' ? ended : undefined;
  } catch {
    return undefined;
  }
}

function detailsOf(request: FastifyRequest, reply: FastifyReply, fhir: boolean): TrafficDetails {
  const operationId = request.routeOptions.config.operationId!;
  const details: TrafficDetails = {};
  if (fhir) {
    details.resourceType = /^\/fhir\/([A-Za-z]+)/.exec(request.url)?.[1];
    details.interaction = interactionOf(operationId);
    if (request.fhirSearch) {
      details.patient = request.fhirSearch.patientId;
      details.resultCount = request.fhirSearch.resultCount;
    }
    details.dpop = /^DPoP\s/i.test(request.headers.authorization ?? '') && request.headers.dpop !== undefined;
  } else {
    const form = ((operationId === 'authorize' ? request.query : request.body) ?? {}) as Form;
    if (operationId === 'token') {
      details.grantType = form.grant_type;
      details.dpop = request.headers.dpop !== undefined;
    }
    if (operationId === 'authorize') details.pushed = form.request_uri !== undefined;
    if ((operationId === 'authorize' || operationId === 'pushAuthorizationRequest') && form.scope) details.scope = form.scope;
  }
  const retryAfter = Number(reply.getHeader('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) details.retryAfter = retryAfter;
  if (request.sandboxFault) details.injected = request.sandboxFault;
  const grantEnded = fhir ? challengeGrantEnded(reply) : request.sandboxGrantEnded;
  if (grantEnded) details.grantEnded = grantEnded;
  return details;
}

export function registerSandboxHooks(app: FastifyInstance, db: Db): void {
  app.addHook('preHandler', async (request, reply) => {
    const client = clientOf(request);
    if (!client?.target) return;
    const fault = await takeFault(db, client.clientId, client.target);
    if (!fault) return;
    // A fault answers in the operation's place: a FHIR read's or search's access check, left to
    // the operation's statement, runs first, and its refusal comes first (the fault is spent).
    const refused = await pendingAccessRefusal(request.principal);
    if (refused) throw refused;
    request.sandboxFault = fault.kind;
    const answer = faultAnswer(fault, client.target);
    if (!answer) {
      await new Promise((resolve) => setTimeout(resolve, fault.latencyMs ?? 0));
      return;
    }
    return reply.code(answer.status).headers(answer.headers).type(answer.contentType).send(answer.body);
  });

  // Recorded before the answer leaves (not once it has gone), so that a report asked for right
  // after an answer includes it. The token endpoint says why a grant ended only in its body: it is
  // read here while it is still there.
  app.addHook('onSend', async (request, reply, payload) => {
    const client = clientOf(request);
    if (!client) return payload;
    if (reply.statusCode === 400 && request.routeOptions.config?.operationId === 'token') {
      const grantEnded = bodyGrantEnded(payload);
      if (grantEnded) request.sandboxGrantEnded = grantEnded;
    }
    try {
      await recordTraffic(db, { clientId: client.clientId, operation: request.routeOptions.config.operationId!, status: reply.statusCode, details: detailsOf(request, reply, client.fhir) });
    } catch (error) {
      // A client that does not exist (a typo in client_id) has no traffic to record.
      request.log.debug({ err: error }, 'sandbox traffic not recorded');
    }
    return payload;
  });
}
