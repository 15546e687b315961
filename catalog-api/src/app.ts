// buildApp(config): the platform server. Opens the store and applies migrations, registers every
// operation of the spec with its handler, and serves the spec, its interactive reference and the
// developer documentation site.
import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { bearerTokensAllowed, ConfigError, type AppConfig } from './core/config.js';
import { registerCors } from './core/cors.js';
import { ProblemError, toProblem, type FieldError } from './core/errors.js';
import { parseJsonBody } from './core/json-body.js';
import { FhirError, outcomeOfProblem, type OperationOutcome } from './core/fhir-error.js';
import { OAuthError } from './core/oauth-error.js';
import { parseFormBody, refuseBadStrings, refuseForeignCharset, registerInputBoundary, utf8Body } from './core/input-boundary.js';
import { operatorTokenScheme } from './core/operator-auth.js';
import { accessCheckPending, pendingAccessRefusal, registerOperations, type HandlerMap } from './core/operations.js';
import { idempotency, idempotencySweep } from './core/idempotency.js';
import { componentsSchema, loadSpec, operations, pathPattern, type OperationSpec } from './core/spec.js';
import { openStore, type Db } from './core/store/db.js';
import { loadMigrations, migrate } from './core/store/migrate.js';
import { createValidatorCompiler } from './core/validation.js';
import { createSerializerCompiler } from './core/serialization.js';
import { defaultDeveloperSiteDir, DEVELOPER_SITE_PATH, registerDeveloperSite } from './core/developer-site.js';
import { catalogHandlers, catalogPageCache, publisherApiKeyScheme } from './modules/catalog/index.js';
import { certificationHandlers, certificationService, documentFetcher, loadCriteria, reviewerApiKeyScheme } from './modules/certification/index.js';
import { healthHandlers } from './modules/health/routes.js';
import { interactiveConsent, sandboxConsent, unavailableConsent } from './modules/consent/index.js';
import { clientCache, ensureSigningKey, oauthHandlers } from './modules/oauth/index.js';
import { accessTokenSigner } from './modules/oauth/access-tokens.js';
import { authorizationHandlers, issuerOf } from './modules/oauth/authorization-routes.js';
import { platformTokenScheme } from './modules/oauth/platform-auth.js';
import { patientDataTokenScheme } from './modules/oauth/patient-data-auth.js';
import { fhirFormatHook, recordsHandlers } from './modules/records/index.js';
import { auditHandlers, ensureAccessHistoryPartitions } from './modules/audit/index.js';
import { notificationHandlers, notificationSweepTasks, startDeliveryWorker, type DeliveryWorker } from './modules/notifications/index.js';
import { patientPageHandlers } from './web/patient-pages.js';
import { authorizationPageHandlers } from './web/authorization-pages.js';
import { siteHandlers } from './web/site-routes.js';
import { patientSignInHandlers } from './web/patient-sign-in.js';
import { identityProviderClient } from './web/oidc/relying-party.js';
import { signInAttemptSweep } from './web/oidc/sign-in-attempts.js';
import { historyPageHandlers } from './web/history-pages.js';
import { agendaPageHandlers } from './web/agenda-pages.js';
import { messagingPageHandlers } from './web/messaging-pages.js';
import { registerSandboxHooks, sandboxHandlers } from './modules/sandbox/index.js';
import { patientSessions, patientSessionScheme, patientSessionSweep } from './web/patient-session.js';
import { startSweeper, type SweepTask } from './core/store/sweeper.js';
import { oauthSweepTasks } from './modules/oauth/sweeps.js';
import { createDpopNonces } from './modules/oauth/dpop.js';
import { storeReplayCache } from './modules/oauth/replay-cache.js';
import { secretBox } from './core/secret-box.js';
import type { OutboundPolicy } from './core/outbound/safe-fetch.js';
import { remoteKeySets } from './modules/oauth/client-remote-keys.js';
import { catalogueHandlers } from './web/catalogue-pages.js';
import { homeHandlers } from './web/home-page.js';
import { DSFR_ASSETS_PREFIX, registerDesignSystemAssets } from './web/design-system.js';
import { legalPageHandlers } from './web/legal-pages.js';
import { errorPage, pageHeaders } from './web/html.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    config: AppConfig;
    /** Every module's clean-up of expired rows, run periodically by the sweeper. */
    sweepTasks: readonly SweepTask[];
    /** Every route registered, in order: the contract test compares them with the spec. */
    registeredRoutes: { method: string; url: string }[];
  }
}

export interface BuildOptions {
  /** Use this store instead of opening one from the configuration; the caller closes it. */
  db?: Db;
  /** Where log lines go (standard output by default). */
  logStream?: NodeJS.WritableStream;
  /**
   * Certificates to trust and name resolution for outbound fetches (tests serve a jwks_uri from a
   * local HTTPS server this way); the system's by default.
   */
  outbound?: Pick<OutboundPolicy, 'ca' | 'resolve'>;
  /**
   * Serve the FHIR API without recording the access history. Only for the benchmark that
   * measures what the history costs; a server that patients rely on never runs without it.
   */
  withoutAccessHistoryForBenchmark?: boolean;
  /** The built developer documentation site to serve under /developers/ (docs/.vitepress/dist by default). */
  developerSiteDir?: string;
  /**
   * Compile each route's validators and serializers at its first request rather than at start.
   * For test servers: each uses a few routes, and compiling all of them is most of a start on
   * PostgreSQL. They validate and serialize the same; a server that serves people compiles all at
   * start, so that its first requests wait for nothing.
   */
  compileSchemasOnFirstUse?: boolean;
}

/**
 * Routes served outside the spec: the spec itself, its interactive reference, the documentation
 * site, and the design system's fonts and icons the pages' stylesheet points to.
 */
export const documentationRoutes = ['/openapi.json', '/docs', DEVELOPER_SITE_PATH, DSFR_ASSETS_PREFIX];

const requestIdPattern = /^[A-Za-z0-9._:-]{8,128}$/;

export async function buildApp(config: AppConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  // The spec's paths and their error formats, known once the spec is loaded (below).
  const families: PathFamily[] = [];
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
      serializers: {
        // The URL as logged, with the values of credential-like query parameters masked.
        req: (request: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
          method: request.method,
          url: request.url.replace(/([?&](?:access_token|refresh_token|code|client_assertion|api_key)=)[^&]*/gi, '$1[redacted]'),
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }),
      },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: config.bodyLimit,
    // Connections are held to deliberate limits (docs/operators.md): a client that is slow to send
    // its headers or its request, or idle after an answer, is disconnected; the timers are checked
    // every second rather than Node's default 30.
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: { headersTimeout: config.headersTimeoutMs, connectionsCheckingInterval: 1000 },
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    // A caller-supplied request id is kept when it looks like one, so traces join up across services.
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: false },
    // A path that cannot be decoded (`/apps/%C0%AE`) is answered in the format of its family.
    frameworkErrors: function (error, request, reply) {
      // No route, so none of the route hooks: the request id is set here.
      reply.header('x-request-id', request.id);
      const problem = new ProblemError('validation_failed', `The request path is not valid: ${error.message.replace(/'[^']*'/, 'a component')}.`);
      return sendError.call(this as FastifyInstance, unroutedFormat(request, families), problem as FastifyError, request, reply);
    },
  });

  if (config.mode === 'production' && !config.publicUrl) {
    throw new ConfigError('publicUrl is required outside the sandbox: it is the OAuth issuer');
  }
  const ownsDb = !options.db;
  const db =
    options.db ??
    (await openStore({
      dataDir: config.dataDir,
      ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
      ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    }));
  const registeredRoutes: { method: string; url: string }[] = [];
  app.decorate('registeredRoutes', registeredRoutes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registeredRoutes.push({ method, url: route.url });
  });
  app.server.maxConnections = config.maxConnections;
  app.decorate('db', db);
  app.decorate('config', config);
  if (ownsDb) app.addHook('onClose', async () => db.close());

  try {
    const migrations = loadMigrations();
    await migrate(db, migrations);
    const box = secretBox(config.keyEncryptionKey);
    await ensureSigningKey(db, box);

    const spec = loadSpec();
    const components = componentsSchema(spec);
    app.addSchema(components);
    // Each distinct schema is compiled once per process, however many routes and servers use it.
    const onFirstUse = options.compileSchemasOnFirstUse === true;
    app.setValidatorCompiler(createValidatorCompiler(components, { onFirstUse }));
    app.setSerializerCompiler(createSerializerCompiler(components, { onFirstUse }));
    // JSON is the only body format of the API; anything else is refused with 415.
    app.removeAllContentTypeParsers();
    // FHIR resources arrive as application/fhir+json, parsed with the same guards.
    // Bodies are UTF-8 (another declared charset is 415) and pass the input boundary as they are parsed.
    app.addContentTypeParser(['application/json', 'application/fhir+json'], { parseAs: 'buffer' }, (request, body, done) => {
      try {
        refuseForeignCharset(request.headers['content-type']);
        const parsed = parseJsonBody(utf8Body(body as Buffer), config.jsonMaxDepth);
        refuseBadStrings(parsed, 'body');
        done(null, parsed);
      } catch (error) {
        done(error as Error, undefined);
      }
    });

    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (request, body, done) => {
      try {
        refuseForeignCharset(request.headers['content-type']);
        done(null, parseFormBody(utf8Body(body as Buffer)));
      } catch (error) {
        done(error as Error, undefined);
      }
    });

    const specOperations = operations(spec);
    families.push(...pathFamilies(specOperations));
    // Browser apps call discovery, keys, PAR, token, revocation and the FHIR API from their own origin.
    registerCors(app, specOperations);
    // No NUL, no unpaired surrogate, no loose integer, no doubled header goes past this point.
    registerInputBoundary(app, (request) => issuerOf(request, config));

    // Tokens never travel in URLs, where logs, proxies and browser history keep them (RFC 6750 §2.3
    // is optional and FAPI 2 forbids it): a request that tries is refused before it reaches a route.
    app.addHook('onRequest', async (request) => {
      const query = request.url.indexOf('?');
      if (query !== -1 && new URLSearchParams(request.url.slice(query + 1)).has('access_token')) {
        throw new ProblemError('validation_failed', 'Access tokens are never accepted in the query string; send them in the Authorization header.');
      }
    });

    app.addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id);
      // Nothing the authorization server answers may be cached (RFC 6749 §5.1, FAPI 2), nor any page
      // answered with the page error format (the authorization endpoint's redirects carry codes).
      const format = request.routeOptions.config.errorFormat;
      if (format === 'oauth' || format === 'page') reply.header('cache-control', 'no-store');
      // The API reference's pages get the pages' other protections (its CSP comes with it).
      if (request.url === '/docs' || request.url.startsWith('/docs/')) {
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'no-referrer');
      }
    });
    app.setErrorHandler(function (error: FastifyError, request, reply) {
      const format = request.routeOptions.config?.errorFormat ?? 'problem';
      const { principal } = request;
      if (!accessCheckPending(principal)) return sendError.call(this, format, error, request, reply);
      // A request whose access check was left to its operation's statement (FHIR reads and
      // searches) and failed before it ran: the check runs now, and its refusal comes first.
      return pendingAccessRefusal(principal).then((refused) => {
        sendError.call(this, format, (refused as FastifyError | null) ?? error, request, reply);
        return reply;
      });
    });
    app.setNotFoundHandler(function (request, reply) {
      const path = request.url.split('?')[0] ?? request.url;
      const error = new ProblemError('route_not_found', `No route ${request.method} ${visiblePath(path)}.`);
      // No such operation: OAuth's errors have no "not found", and a page is for a browser's navigation.
      const family = unroutedFormat(request, families);
      const browsing = /\btext\/html\b/.test(request.headers.accept ?? '');
      const format = family === 'oauth' || (family === 'page' && !browsing) ? 'problem' : family;
      return sendError.call(this, format, error as FastifyError, request, reply);
    });

    const remoteKeys = remoteKeySets({
      policy: { allowPrivateNetworks: config.outboundAllowPrivateNetworks, timeoutMs: config.outboundTimeoutMs, ...options.outbound },
    });
    const replay = storeReplayCache(db);
    // Patient sessions are __Host- cookies, Secure, when the platform is served over HTTPS.
    const secureCookies = (config.publicUrl ?? '').startsWith('https://');
    const sessions = patientSessions(db, { secure: secureCookies });
    const nonces = createDpopNonces(db);
    // The identity provider patients sign in at, when one is configured (discovered at first use).
    const identityProvider = config.patientIdentityProvider
      ? await identityProviderClient(config.patientIdentityProvider, { timeoutMs: config.outboundTimeoutMs, allowPrivateNetworks: config.outboundAllowPrivateNetworks, ...options.outbound })
      : null;
    const certification = certificationService({
      db,
      config,
      box,
      criteria: loadCriteria(),
      fetchDocument: documentFetcher({ allowPrivateNetworks: config.outboundAllowPrivateNetworks, timeoutMs: config.outboundTimeoutMs, ...options.outbound }),
    });
    const signer = accessTokenSigner(db, box);
    // Subscriptions' notifications: delivered from the store's outbox by a worker on each instance.
    let deliveryWorker: DeliveryWorker | null = null;
    const catalogPages = catalogPageCache(db);
    const clients = clientCache(db);
    app.addHook('onClose', () => {
      catalogPages.close();
      clients.close();
    });
    const handlers: HandlerMap = {
      ...healthHandlers(db, migrations),
      ...catalogHandlers(db, config, catalogPages),
      ...certificationHandlers(db, config, certification, (request) => issuerOf(request, config)),
      ...oauthHandlers(db, config, box, { remoteKeys, bearerTokensAllowed: bearerTokensAllowed(config) }),
      ...authorizationHandlers({
        db,
        config,
        // Real patients sign in at the identity provider and decide on the consent screen.
        consent: config.mode === 'sandbox' ? sandboxConsent(db) : config.patientIdentityProvider ? interactiveConsent() : unavailableConsent(),
        replay,
        nonces,
        sign: signer,
        remoteKeys,
        clients,
      }),
      ...patientPageHandlers({ db, config, sessions, issuerOf: (request) => issuerOf(request, config) }),
      ...patientSignInHandlers({ db, config, sessions, box, identityProvider, secureCookies, issuerOf: (request) => issuerOf(request, config) }),
      ...historyPageHandlers({ db, config, sessions }),
      ...agendaPageHandlers({ db, config, sessions }),
      ...messagingPageHandlers({ db, config, sessions, issuerOf: (request) => issuerOf(request, config) }),
      ...recordsHandlers({ db, config, issuerOf: (request) => issuerOf(request, config), recordHistory: !options.withoutAccessHistoryForBenchmark }),
      ...auditHandlers(db),
      ...notificationHandlers({ db, issuerOf: (request) => issuerOf(request, config), wake: () => void deliveryWorker?.wake() }),
      ...authorizationPageHandlers({ db, config, sessions, issuerOf: (request) => issuerOf(request, config) }),
      ...sandboxHandlers(db, config, { box, issuerOf: (request) => issuerOf(request, config) }),
      ...siteHandlers({ secureCookies }),
      ...homeHandlers({ db, config, sessions }),
      ...legalPageHandlers({ db, config, sessions, secureCookies }),
      ...catalogueHandlers({ db, config, sessions, outbound: options.outbound }),
    };
    // The sandbox injects the failures developers ask for and records each client's traffic.
    if (config.mode === 'sandbox') registerSandboxHooks(app, db);
    // Every FHIR operation serves JSON only: one check of _format and Accept for all of them.
    app.addHook('preValidation', fhirFormatHook);
    registerOperations(app, specOperations, handlers, {
      publisherApiKey: publisherApiKeyScheme(db),
      reviewerApiKey: reviewerApiKeyScheme(db),
      platformToken: platformTokenScheme({ db, config, replay, nonces, issuerOf: (request) => issuerOf(request, config) }),
      patientDataToken: patientDataTokenScheme({ db, config, replay, nonces, issuerOf: (request) => issuerOf(request, config) }),
      operatorToken: operatorTokenScheme(config.operatorToken),
      patientSession: patientSessionScheme(sessions),
    }, { idempotency: idempotency(db) });

    // The access history's monthly partitions: this month's and the next two now, then at every sweep round.
    for (const problem of await ensureAccessHistoryPartitions(db)) app.log.warn(problem);
    const partitionTask: SweepTask = {
      name: 'access_history_partitions',
      async sweep(tx) {
        for (const problem of await ensureAccessHistoryPartitions(tx)) app.log.warn(problem);
        return 0;
      },
    };
    const certificateExpiry: SweepTask = { name: 'certificate_expiry', sweep: (tx, batch) => certification.expireCertificates(tx, batch) };
    const sweepTasks = [...oauthSweepTasks, ...notificationSweepTasks, certificateExpiry, patientSessionSweep, signInAttemptSweep, idempotencySweep, partitionTask];
    app.decorate('sweepTasks', sweepTasks);
    if (config.sweepIntervalSeconds > 0) {
      const sweeper = startSweeper(db, sweepTasks, { intervalSeconds: config.sweepIntervalSeconds, log: app.log });
      // Stopped, and its round under way finished, before the store closes.
      app.addHook('preClose', () => sweeper.stop());
    }

    if (config.notificationPollMs > 0) {
      const worker = startDeliveryWorker({ db, config, sign: signer, outbound: options.outbound, log: app.log });
      deliveryWorker = worker;
      // Stopped, and its deliveries under way finished, before the store closes; what it had not
      // finished stays in the outbox for the next start (or another instance).
      app.addHook('preClose', () => worker.stop());
    }

    await app.register(fastifySwagger, { mode: 'static', specification: { document: spec as never } });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    await app.register(fastifySwaggerUi, {
      routePrefix: '/docs',
      uiConfig: { deepLinking: true, tryItOutEnabled: true },
      // The reference runs its own scripts (files, none inline) and inline styles; nothing else,
      // from nowhere else, and never in a frame.
      staticCSP: {
        'default-src': ["'none'"],
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'font-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
      },
    });
    // The guides as a site (VitePress), with a CSP of its own that allows its inline scripts by
    // their hashes; when it was not built, each of its paths says how to build it.
    await registerDeveloperSite(app, { root: options.developerSiteDir ?? defaultDeveloperSiteDir });
    // The State design system's fonts and icons the pages' stylesheet points to, and nothing else of it.
    await registerDesignSystemAssets(app);
    await app.ready();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/** Errors of the OAuth endpoints, as RFC 6749 error JSON. */
function sendOAuthError(this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  let oauth: OAuthError;
  if (error instanceof OAuthError) oauth = error;
  else if (error.validation) {
    const [first] = fieldErrors(error.validation as AjvErrorLike[], error.validationContext);
    oauth = new OAuthError('invalid_request', first ? `${first.pointer.replace(/^\/(body|query|headers)\//, '')}: ${first.detail}` : 'invalid request');
  } else if (error instanceof ProblemError || (error.statusCode && error.statusCode < 500)) {
    const status = error instanceof ProblemError ? error.status : (error.statusCode ?? 400);
    const problem = error instanceof ProblemError ? error : asProblem.call(this, error, request);
    oauth = new OAuthError('invalid_request', problem.message, status === 413 || status === 415 ? status : 400);
  } else {
    request.log.error({ err: error }, 'unhandled error');
    oauth = new OAuthError('server_error', 'An unexpected error occurred; quote the request id when reporting it.');
  }
  reply.code(oauth.status).headers(oauth.headers).type('application/json').send(oauth.toJSON());
}

function sendProblem(request: FastifyRequest, reply: FastifyReply, error: ProblemError) {
  reply
    .code(error.status)
    .headers(error.headers)
    .type('application/problem+json')
    .send(toProblem(error, request.url.split('?')[0] ?? request.url, String(request.id)));
}

interface AjvErrorLike {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** Maps Ajv errors to field errors whose pointer names the offending input. */
function fieldErrors(validation: AjvErrorLike[], context: string | undefined): FieldError[] {
  const part = context === 'querystring' ? 'query' : (context ?? 'body');
  return validation.map((error) => {
    let pointer = `/${part}${error.instancePath}`;
    if (error.keyword === 'required') pointer += `/${String(error.params.missingProperty)}`;
    if (error.keyword === 'additionalProperties') pointer += `/${String(error.params.additionalProperty)}`;
    const detail =
      error.keyword === 'additionalProperties'
        ? `unknown property "${String(error.params.additionalProperty)}"`
        : (error.message ?? 'is not valid');
    return { pointer, detail };
  });
}

const fastifyCodes: Record<string, ProblemError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
};

/** Any error of an operation as a problem with its stable code; unexpected ones are logged. */
function asProblem(this: FastifyInstance, error: FastifyError, request: FastifyRequest): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error.validation) {
    const errors = fieldErrors(error.validation as AjvErrorLike[], error.validationContext);
    const detail = errors.map((e) => `${e.pointer}: ${e.detail}`).join('; ');
    return new ProblemError('validation_failed', detail, errors);
  }
  const mapped = error.code ? fastifyCodes[error.code] : undefined;
  if (mapped) {
    const limit = request.routeOptions.bodyLimit ?? this.config.bodyLimit;
    return new ProblemError(mapped, mapped === 'payload_too_large' ? `The request body is larger than ${limit} bytes.` : error.message);
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return new ProblemError('validation_failed', error.message);
  request.log.error({ err: error }, 'unhandled error');
  return new ProblemError('internal_error', 'An unexpected error occurred; quote the request id when reporting it.');
}

type ErrorFormat = 'problem' | 'oauth' | 'fhir' | 'page';

/**
 * The family of each path of the spec: a pattern of its segments (a parameter matches any one
 * segment, even one that cannot be decoded) and the error format its operations share, if they do.
 */
function pathFamilies(specOperations: readonly OperationSpec[]): PathFamily[] {
  const byPath = new Map<string, Set<ErrorFormat>>();
  for (const operation of specOperations) byPath.set(operation.path, (byPath.get(operation.path) ?? new Set()).add(operation.errorFormat));
  return [...byPath].flatMap(([path, formats]) => (formats.size === 1 ? [{ pattern: pathPattern(path), format: [...formats][0]! }] : []));
}

type PathFamily = { pattern: RegExp; format: ErrorFormat };

/**
 * The format of an error for a request no route answered (a path that cannot be decoded, a
 * parameter too long, an unknown path): that of the spec's path it has the shape of; else an
 * OperationOutcome under `/fhir`, a page for a browser's navigation, a problem otherwise.
 */
function unroutedFormat(request: FastifyRequest, families: readonly PathFamily[]): ErrorFormat {
  const path = request.url.split('?')[0] ?? request.url;
  const family = families.find(({ pattern }) => pattern.test(path));
  if (family) return family.format;
  if (path === '/fhir' || path.startsWith('/fhir/')) return 'fhir';
  return /\btext\/html\b/.test(request.headers.accept ?? '') ? 'page' : 'problem';
}

/** A path as an error may repeat it: printable ASCII, cut short. */
const visiblePath = (path: string) => {
  const shown = path.replace(/[^\x20-\x7E]/g, '?');
  return shown.length > 200 ? `${shown.slice(0, 197)}...` : shown;
};

/** Any error, in the format of its route's family. */
function sendError(this: FastifyInstance, format: ErrorFormat, error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (format === 'oauth') return sendOAuthError.call(this, error, request, reply);
  if (format === 'page') {
    const problem = asProblem.call(this, error, request);
    return reply.code(problem.status).headers({ ...problem.headers, ...pageHeaders }).type('text/html; charset=utf-8').send(errorPage(problem.status, problem.message, String(request.id)));
  }
  if (format === 'fhir') {
    if (error instanceof FhirError) return sendOutcome(reply, error.status, error.headers, error.toOutcome());
    const problem = asProblem.call(this, error, request);
    const resourceType = /^\/fhir\/([A-Za-z]+)/.exec(request.url)?.[1];
    return sendOutcome(reply, problem.status, problem.headers, outcomeOfProblem(problem, resourceType));
  }
  return sendProblem(request, reply, asProblem.call(this, error, request));
}

function sendOutcome(reply: FastifyReply, status: number, headers: Record<string, string>, outcome: OperationOutcome) {
  reply.code(status).headers(headers).type('application/fhir+json').send(outcome);
}
