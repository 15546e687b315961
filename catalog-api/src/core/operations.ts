// Typed operation handlers and their registration: every route comes from the spec by
// operationId, is authenticated according to the operation's `security`, validated from its
// schemas, and answers through its response schemas (so no field outside them can leak).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { operations } from '@mes/openapi';
import { ProblemError } from './errors.js';
import type { Idempotency, SettleAnswer } from './idempotency.js';
import type { OperationSpec } from './spec.js';

/** Operations of the spec's `webhooks`: requests the platform sends, not routes it serves. */
export type WebhookOperationId = 'subscriptionNotification';
export type OperationId = Exclude<keyof operations, WebhookOperationId>;
type Op<K extends OperationId> = operations[K];

type JsonContent<T> = T extends { content: { 'application/json': infer B } }
  ? B
  : T extends { content: { 'application/fhir+json': infer R } }
    ? R
    : T extends { content: { 'application/x-www-form-urlencoded': infer F } }
      ? F
      : undefined;

export type RequestBody<K extends OperationId> = Op<K> extends { requestBody: infer RB }
  ? JsonContent<RB>
  : Op<K> extends { requestBody?: infer RB }
    ? [RB] extends [never] | [undefined]
      ? undefined
      : JsonContent<NonNullable<RB>>
    : undefined;

type Part<K extends OperationId, Where extends 'path' | 'query'> = Op<K>['parameters'] extends { [P in Where]?: infer T }
  ? [NonNullable<T>] extends [never]
    ? Record<string, never>
    : NonNullable<T>
  : Record<string, never>;

export type PathParams<K extends OperationId> = Part<K, 'path'>;
export type QueryParams<K extends OperationId> = Part<K, 'query'>;

type SuccessStatus = 200 | 201 | 202 | 204 | 303 | 304;
type Responses<K extends OperationId> = Op<K>['responses'];
type BodyOf<R> = R extends { content: { 'application/json': infer B } }
  ? B
  : R extends { content: { 'application/fhir+json': infer F } }
    ? F
    : R extends { content: { 'text/css': string } }
      ? string | Buffer
      : R extends { content: { 'text/html': string } | { 'text/csv': string } }
        ? string
        : R extends { content: { 'image/png': unknown } } | { content: { 'image/svg+xml': unknown } }
          ? Buffer
          : undefined;

/** Statuses answered with a page (e.g. the authorization endpoint's error page) or an image (a placeholder), whatever their code. */
type PageStatus<K extends OperationId> = {
  [S in keyof Responses<K>]: Responses<K>[S] extends { content: { 'text/html': string } } | { content: { 'image/png': unknown } } | { content: { 'image/svg+xml': unknown } }
    ? S
    : never;
}[keyof Responses<K>];
type ReplyStatus<K extends OperationId> = (keyof Responses<K> & SuccessStatus) | PageStatus<K>;

/**
 * What a handler returns: one of the operation's success responses (or pages), typed from the
 * spec. Errors are thrown, as ProblemError or OAuthError.
 */
export type Reply<K extends OperationId> = {
  [S in ReplyStatus<K>]: BodyOf<Responses<K>[S]> extends undefined
    ? { status: S; body?: undefined; headers?: Record<string, string> }
    : { status: S; body: BodyOf<Responses<K>[S]>; headers?: Record<string, string> };
}[ReplyStatus<K>];

/** Who is calling, as established by the operation's security scheme. */
export type Principal =
  | { kind: 'publisher'; publisherId: string; via: 'api_key'; apiKeyId: string }
  | { kind: 'publisher'; publisherId: string; via: 'platform_token'; sessionId: string; scope: string }
  | { kind: 'reviewer'; reviewerId: string; via: 'api_key'; apiKeyId: string }
  | { kind: 'reviewer'; reviewerId: string; via: 'platform_token'; sessionId: string; scope: string }
  | { kind: 'operator' }
  /** A patient signed in on the platform's pages. */
  | { kind: 'patient'; patientId: string }
  | {
      /** An app with a patient-data token: for one patient, under one grant, within its scopes. */
      kind: 'patient_data';
      patientId: string;
      grantId: string;
      clientId: string;
      scope: string;
      /**
       * What the grant says, once the store's part of the check has passed; null while it is
       * deferred to the operation's own statement (`deferredCheck`).
       */
      grant: GrantFacts | null;
      deferredCheck: DeferredAccessCheck | null;
    };

/** What the grant behind a patient-data token says, read with the token's state. */
export interface GrantFacts {
  /** Who approved the grant: the patient, or a guardian acting for a child. */
  actorId: string;
  appId: string;
  /** The approver may still act for the patient (always, when they are the patient). */
  actorMayAct: boolean;
}

/**
 * The store's part of a patient-data request's check (the proof's identifier recorded, the grant's
 * and the token's state), left by the security scheme to an operation that runs it inside its own
 * statement: one round trip for both. Until it is judged nothing may be answered: an error on the
 * way (validation, a refusal of the handler's) runs it alone first, and a refusal it finds wins.
 */
export interface DeferredAccessCheck {
  /**
   * CTEs to open the operation's statement with (`first_use`, `access`: one row), the statement's
   * first parameters, and a condition on the rest of its work (the check can still pass).
   */
  readonly query: { ctes: string; params: readonly unknown[]; ready: string };
  /** Judges the `access` row the statement returned: the grant's facts, or throws the refusal. */
  judge(row: Record<string, unknown>): GrantFacts;
  /** Runs the check on its own statement (once): the grant's facts, or throws the refusal. */
  settle(): Promise<GrantFacts>;
}

/**
 * Marks a handler that runs its principal's deferred access check inside its own statement
 * (DeferredAccessCheck); the security scheme defers it only for such handlers.
 */
export const combinesAccessCheck: unique symbol = Symbol('combinesAccessCheck');

export function combiningAccessCheck<H extends (...args: never[]) => unknown>(handler: H): H {
  return Object.assign(handler, { [combinesAccessCheck]: true });
}

/** The grant's facts of a patient-data principal, running its deferred check alone when it is still pending. */
export async function grantFactsOf(principal: Extract<Principal, { kind: 'patient_data' }>): Promise<GrantFacts> {
  return principal.grant ?? principal.deferredCheck!.settle();
}

/** Whether the principal's deferred access check has still to be judged. */
export const accessCheckPending = (principal: Principal | null): principal is Extract<Principal, { kind: 'patient_data' }> =>
  principal?.kind === 'patient_data' && principal.grant === null;

/**
 * For an answer about to leave (an error, a sandbox fault): the refusal of the request's deferred
 * access check, run now if it is still pending, or null when it passes (or there is none).
 */
export async function pendingAccessRefusal(principal: Principal | null): Promise<unknown> {
  if (!accessCheckPending(principal)) return null;
  try {
    await principal.deferredCheck!.settle();
    return null;
  } catch (error) {
    return error;
  }
}

export interface HandlerContext<K extends OperationId> {
  request: FastifyRequest;
  body: RequestBody<K>;
  params: PathParams<K>;
  query: QueryParams<K>;
  principal: Principal | null;
  /**
   * Present when the operation takes an Idempotency-Key and the request carries one: a handler
   * that writes in one transaction records its answer there with it, so that what it wrote and
   * the answer a retry gets commit together (core/idempotency.ts). Otherwise the answer is
   * recorded once the handler has returned.
   */
  settleIdempotency?: SettleAnswer;
}

export type Handler<K extends OperationId> = (context: HandlerContext<K>) => Promise<Reply<K>>;
export type HandlerMap<K extends OperationId = OperationId> = { [P in K]: Handler<P> };

/**
 * One security scheme of the spec: the Authorization scheme its credentials travel in, the
 * challenge to send when none came, and the check of a credential, given the roles (scopes) the
 * operation lists with the scheme. `authenticate` throws a ProblemError when it refuses.
 */
export interface SecurityScheme {
  /** Lower-case name of the HTTP authentication scheme, e.g. `bearer` or `dpop`. */
  authScheme: string;
  /** The WWW-Authenticate challenge of this scheme, e.g. `Bearer realm="mes"`. */
  challenge: string;
  /** How to send the credential, for an error detail. */
  hint: string;
  authenticate(request: FastifyRequest, scopes: readonly string[], options?: { deferStoreCheck?: boolean }): Promise<Principal>;
  /**
   * Whether a credential sent in `authScheme` is this scheme's, for operations that accept two
   * schemes sent the same way (a publisher's or a reviewer's API key): each key type has its
   * own prefix.
   */
  claims?(credential: string): boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    operationId?: string;
    errorFormat?: 'problem' | 'oauth' | 'fhir' | 'page';
  }
}

export function publisherOf(context: { principal: Principal | null }): { publisherId: string } {
  if (context.principal?.kind !== 'publisher') throw new ProblemError('authentication_required');
  return context.principal;
}

export function reviewerOf(context: { principal: Principal | null }): { reviewerId: string } {
  if (context.principal?.kind !== 'reviewer') throw new ProblemError('reviewer_required', 'Sign in as a certification reviewer (mes login) or send a reviewer key.');
  return context.principal;
}

type AnyHandler = (context: HandlerContext<OperationId>) => Promise<{ status: number; body?: unknown; headers?: Record<string, string> }>;

export class ContractError extends Error {
  override name = 'ContractError';
}

/** Registers one route per operation of the spec; fails when spec and handlers disagree. */
export function registerOperations(
  app: FastifyInstance,
  specOperations: OperationSpec[],
  handlers: { readonly [operationId: string]: unknown },
  securitySchemes: Record<string, SecurityScheme>,
  options: { idempotency?: Idempotency } = {},
): void {
  const known = new Set(specOperations.map((operation) => operation.operationId));
  const extra = Object.keys(handlers).filter((id) => !known.has(id));
  if (extra.length) throw new ContractError(`handlers without an operation in the spec: ${extra.join(', ')}`);

  app.decorateRequest('principal', null);
  for (const operation of specOperations) {
    const handler = handlers[operation.operationId] as (AnyHandler & { [combinesAccessCheck]?: true }) | undefined;
    if (!handler) throw new ContractError(`operation ${operation.operationId} has no handler`);
    const deferStoreCheck = handler[combinesAccessCheck] === true;
    const alternatives = operation.security.map(({ scheme: name, scopes }) => {
      const scheme = securitySchemes[name];
      if (!scheme) throw new ContractError(`security scheme ${name} has no authenticator`);
      return { scheme, scopes };
    });
    const authSchemes = alternatives.map(({ scheme }) => scheme.authScheme);
    const sharedWithoutClaim = alternatives.some(
      ({ scheme }) => !scheme.claims && authSchemes.filter((name) => name === scheme.authScheme).length > 1,
    );
    if (sharedWithoutClaim) {
      throw new ContractError(`operation ${operation.operationId} lists two security schemes sent the same way (${authSchemes.join(', ')})`);
    }

    app.route({
      method: operation.method,
      url: operation.url,
      schema: { ...operation.schema, operationId: operation.operationId } as never,
      config: { operationId: operation.operationId, errorFormat: operation.errorFormat },
      ...(operation.bodyLimit ? { bodyLimit: operation.bodyLimit } : {}),
      ...(operation.handlesInvalidParameters ? { attachValidation: true } : {}),
      // Authentication runs before validation: an anonymous caller learns nothing from the schema.
      onRequest: alternatives.length
        ? async (request) => {
            // The alternatives of an operation travel in different Authorization schemes: the
            // header's scheme picks one. With a single alternative, it judges any header itself.
            const [sentScheme, credential = ''] = request.headers.authorization?.trim().split(/\s+/) ?? [];
            const sent = sentScheme?.toLowerCase();
            const sentThisWay = alternatives.filter(({ scheme }) => scheme.authScheme === sent);
            const chosen =
              (sentThisWay.length > 1 ? (sentThisWay.find(({ scheme }) => scheme.claims?.(credential)) ?? sentThisWay[0]) : sentThisWay[0]) ??
              (alternatives.length === 1 ? alternatives[0] : undefined);
            if (!chosen) {
              throw new ProblemError('authentication_required', `Send ${alternatives.map(({ scheme }) => scheme.hint).join(', or ')}.`, undefined, {
                'www-authenticate': alternatives.map(({ scheme }) => scheme.challenge).join(', '),
              });
            }
            request.principal = await chosen.scheme.authenticate(request, chosen.scopes, { deferStoreCheck });
          }
        : undefined,
      preValidation: async (request) => {
        // Each operation takes one body format: a JSON body sent to a form endpoint is refused, and the reverse.
        if (request.body !== undefined && operation.bodyMediaType) {
          const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
          // FHIR servers accept plain application/json for FHIR JSON too (FHIR R4 §3.1.0.1.9).
          const accepted = operation.bodyMediaType === 'application/fhir+json' ? ['application/fhir+json', 'application/json'] : [operation.bodyMediaType];
          if (!accepted.includes(type as never)) {
            throw new ProblemError('unsupported_media_type', `This operation takes ${operation.bodyMediaType}.`);
          }
        }
        if (request.body === undefined && operation.schema.body && !operation.bodyRequired) request.body = {};
      },
      handler: async (request, reply) => {
        const run = (settle?: SettleAnswer) =>
          handler({
            request,
            body: request.body as never,
            params: request.params as never,
            query: request.query as never,
            principal: request.principal,
            ...(settle ? { settleIdempotency: settle } : {}),
          });
        const result = operation.idempotent && options.idempotency ? await options.idempotency.run(request, operation.operationId, run) : await run();
        // A handler that combines the access check judges it; one that returned without doing so answers nothing before it passes.
        if (deferStoreCheck) {
          const refusal = await pendingAccessRefusal(request.principal);
          if (refusal) throw refusal;
        }
        if (result.headers) reply.headers(result.headers);
        // A key shown once must not stay in a cache on the way (the spec marks it x-secret).
        if (operation.carriesSecrets && result.status < 300) reply.header('cache-control', 'no-store');
        reply.code(result.status);
        if (result.body === undefined) return reply.send();
        // Bytes go out as the handler typed them (an image); a text body is a page unless the
        // handler named its type (a stylesheet, a CSV export); anything else is the operation's JSON.
        const named = result.headers?.['content-type'];
        if (Buffer.isBuffer(result.body)) return reply.type(named ?? 'application/octet-stream').send(result.body);
        const type = typeof result.body === 'string' ? (named ?? 'text/html; charset=utf-8') : operation.responseMediaType;
        return reply.type(type).send(result.body);
      },
    });
  }
}
