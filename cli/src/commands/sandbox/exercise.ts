// `mes sandbox exercise`: a reference run of what the sandbox checks of certification expect,
// played through an app's public client with the real SDK (in memory: nothing written to disk).
import {
  ApiError,
  ConnectionError,
  createPublisherClient,
  fhirResourceTypes,
  MesError,
  OAuthError,
  ReauthorizationRequiredError,
  scopesAllow,
  type App,
  type PublisherClient,
  type TrafficReport,
} from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { CodedError, MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { table } from '../../output.js';
import { trafficReportDetails } from '../../views.js';

export type ExerciseStepName = keyof typeof messages.exercise.titles;

export interface ExerciseStep {
  step: ExerciseStepName;
  outcome: 'ok' | 'skipped';
  detail: string;
}

export interface ExerciseResult {
  clientId: string;
  /** The patient the grant is for (the child, with `<guardian>:<child>`). */
  patient: string;
  steps: ExerciseStep[];
  /** The client's traffic report after the run. */
  report: TrafficReport;
}

type ResourceType = (typeof fhirResourceTypes)[number];

const msg = messages.exercise;
const stepCount = Object.keys(msg.titles).length;
/** What the run asks the sandbox to answer with once: a short Retry-After keeps the run quick. */
const retryAfterSeconds = 1;

/** The default scope: the app's patient-data scopes, and offline_access when it asks for it (to refresh). */
const defaultScopes = (app: App) => app.scopes.map((s) => s.scope).filter((scope) => scope.startsWith('patient/') || scope === 'offline_access');

/** The resource types the granted scopes let the app search, in the API's order. */
const searchableTypes = (granted: readonly string[]): ResourceType[] => fhirResourceTypes.filter((type) => scopesAllow(granted, type, 'search'));

/** The error the authorization endpoint shows on its page when it cannot redirect back. */
function pageError(html: string): { error: string; description: string } | undefined {
  const found = /<code>([^<]+)<\/code>:\s*([^<]*)/.exec(html);
  return found ? { error: found[1]!, description: found[2]!.trim() } : undefined;
}

/** A step that failed: exit 1 with the code of what went wrong, the step named in the message. */
function stepFailure(step: ExerciseStepName, error: unknown): unknown {
  const message = error instanceof Error ? msg.stepFailed(step, error.message) : String(error);
  if (error instanceof CodedError) return new CodedError(message, error.errorCode, error.details);
  if (error instanceof ApiError) {
    return new CodedError(message, error.code ?? `http_${error.status}`, {
      status: error.status,
      ...(error.requestId ? { requestId: error.requestId } : {}),
      ...(error.errors.length ? { errors: error.errors } : {}),
    });
  }
  if (error instanceof OAuthError) return new CodedError(message, error.error, error.status ? { status: error.status } : {});
  if (error instanceof ReauthorizationRequiredError) return new CodedError(message, error.reason);
  if (error instanceof ConnectionError) return new CodedError(messages.unreachable(message), 'connection_failed');
  if (error instanceof MesError) return new CodedError(message, 'client_error');
  return error;
}

export default class SandboxExercise extends MesCommand<typeof SandboxExercise> {
  static override summary = "Play an app's public client through what certification expects: a reference run, not evidence.";
  static override description = `A reference run of the behaviour the sandbox checks of certification look for (sandbox.complete_flow, sandbox.refresh, sandbox.rate_limit, sandbox.withdrawn_grant, sandbox.scope_adherence, sandbox.least_privilege), played by the SDK (@mes/sdk) through the app's public client, its tokens and DPoP keys kept in memory only:

  1. sign_in: authorize() with login_hint (pushed with PAR, PKCE S256, the code bound to a DPoP key), the sandbox's redirect read, handleCallback()
  2. search: one FHIR search (first page, _count=5) per resource type of the granted scopes
  3. refresh: the client's access tokens expired, a search: the SDK refreshes (skipped without offline_access)
  4. rate_limit: a 429 with Retry-After: ${retryAfterSeconds} injected, a search: the SDK waits, then retries
  5. withdrawn_grant: the patient's grants of the client withdrawn, a search: the SDK throws ReauthorizationRequiredError and makes no further call
  6. report: the client's traffic report after the run, what certification reads

By default it asks for every patient/… scope of the app, and offline_access when the app asks for it; the app's first redirect URI, the app's first public client.

This is a reference: it shows what the checks expect, it is not your app's evidence. For certification the evidence must be your app's own traffic: run the app against the sandbox with its own client. The run's requests are recorded in the exercised client's traffic like any other, and reviewers see that report in the submission's evidence. By default the run plays the app's first public client, also the client a submission takes as evidence when none is named: use --client to exercise a public client your app does not use (create one with "mes api createClient --app-id <appId> --field type=public"), and submit with your app's own client ("mes apps submit <appId> --version … --sandbox-client <clientId>"). "mes apps checks <appId> --sandbox-client <clientId>" previews the checks on a client's traffic.

The run changes the client's state as the controls do: it expires the client's access tokens and withdraws the patient's grants of the client. It refuses to start while faults are pending for the client. A step that fails stops the run (exit 1, with the failure's code). Sandbox servers only (elsewhere: sandbox_only).`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --app 0b6f… --patient sandbox-patient-1',
    '<%= config.bin %> <%= command.id %> --app 0b6f… --patient sandbox-patient-1 --client mes_… --json',
    '<%= config.bin %> <%= command.id %> --app 0b6f… --patient sandbox-patient-2 --scope "patient/Immunization.rs offline_access"',
  ];

  static override flags = {
    app: Flags.string({ summary: 'The app (its id, see "mes apps list").', required: true, helpValue: '<appId>' }),
    patient: Flags.string({ summary: 'The synthetic patient (see "mes sandbox patients"), or <guardian>:<child>.', required: true, helpValue: '<id>' }),
    scope: Flags.string({
      summary: "The scopes to ask for, space-separated (default: every patient/… scope of the app, and offline_access when the app asks for it).",
      helpValue: '"<scope> …"',
    }),
    client: Flags.string({ summary: "The public client to play, one of the app's (default: its first public client).", helpValue: '<clientId>' }),
    'redirect-uri': Flags.string({ summary: "One of the app's redirect URIs (default: the first).", helpValue: '<uri>' }),
  };

  async run(): Promise<ExerciseResult> {
    const { app: appId, patient: loginHint } = this.flags;
    const publisher = await this.client({ authenticated: true });
    const [app, clients] = await Promise.all([publisher.apps.get(appId), publisher.clients.list(appId)]);

    const requested = this.flags.client;
    const chosen = requested === undefined ? clients.items.find((candidate) => candidate.type === 'public') : clients.items.find((candidate) => candidate.clientId === requested);
    if (!chosen) throw requested === undefined ? new CodedError(msg.noPublicClient(appId), 'no_public_client') : new CodedError(msg.unknownClient(requested, appId), 'invalid_flag');
    if (chosen.type !== 'public') throw new CodedError(msg.notPublicClient(chosen.clientId), 'invalid_flag');
    const { clientId } = chosen;
    const redirectUri = this.flags['redirect-uri'] ?? app.redirectUris[0];
    if (!redirectUri) throw new CodedError(messages.noRedirectUri(appId), 'no_redirect_uri');
    if (!app.redirectUris.includes(redirectUri)) throw new CodedError(messages.unregisteredRedirectUri(redirectUri, app.redirectUris), 'invalid_flag');
    const scopes = (this.flags.scope?.split(' ') ?? defaultScopes(app)).filter(Boolean);
    if (!scopes.length) throw new CodedError(messages.noPatientScopes(appId), 'no_patient_scopes');
    if (!searchableTypes(scopes).length) throw new CodedError(msg.noSearchableScope(scopes), 'no_searchable_scope');

    // Also the sandbox check: elsewhere the controls answer sandbox_only before anything is sent as the app.
    const pending = await publisher.sandbox.listFaults(clientId);
    if (pending.items.length) throw new CodedError(msg.faultsPending(clientId, pending.items.length), 'faults_pending');

    // The app's side: the SDK as an app uses it, with its default in-memory storage.
    const mes: PublisherClient = createPublisherClient({ baseUrl: publisher.baseUrl, clientId, redirectUri, scope: scopes });
    const steps: ExerciseStep[] = [];
    const step = async (name: ExerciseStepName, run: () => Promise<Omit<ExerciseStep, 'step'>>): Promise<void> => {
      this.log(msg.stepStarted(steps.length + 1, stepCount, msg.titles[name]));
      let done: Omit<ExerciseStep, 'step'>;
      try {
        done = await run();
      } catch (error) {
        throw stepFailure(name, error);
      }
      steps.push({ step: name, ...done });
      this.log(msg.stepEnded(done.outcome, done.detail));
    };
    const search = (type: ResourceType) => mes.fhir.search(type, { _count: 5 });

    this.log(msg.start(clientId, appId, loginHint));
    let patient = loginHint.split(':').at(-1)!;
    let granted: string[] = [];
    let refreshable = false;
    let types: ResourceType[] = [];

    await step('sign_in', async () => {
      const { url } = await mes.authorize({ scope: scopes, loginHint });
      // The sandbox pre-approves consent for login_hint: its answer is the redirect to the app, read and never followed.
      const response = await fetch(url, { redirect: 'manual' });
      const location = response.headers.get('location');
      const back = location ? new URL(location, url) : undefined;
      const expected = new URL(redirectUri);
      if (!back || back.origin !== expected.origin || back.pathname !== expected.pathname) {
        const refused = back ? undefined : pageError(await response.text());
        if (refused) throw new CodedError(messages.authorizationRefused(refused.error, refused.description), refused.error);
        throw new CodedError(msg.notPreApproved(response.status, back?.href ?? null), 'not_pre_approved');
      }
      await response.body?.cancel();
      const info = await mes.handleCallback(back);
      patient = info.patient ?? patient;
      granted = info.scopes;
      refreshable = info.refreshable;
      // PAR: the browser's URL carries only client_id and request_uri.
      return { outcome: 'ok', detail: msg.signedIn(patient, url.searchParams.has('request_uri'), granted) };
    });

    await step('search', async () => {
      types = searchableTypes(granted);
      if (!types.length) throw new CodedError(msg.noSearchableScope(granted), 'no_searchable_scope');
      const results: [string, number][] = [];
      for (const type of types) results.push([type, (await search(type)).items.length]);
      return { outcome: 'ok', detail: msg.searched(results) };
    });
    const probe = types[0]!;

    await step('refresh', async () => {
      if (!refreshable) return { outcome: 'skipped', detail: msg.refreshSkipped };
      const before = (await mes.authorization())!.expiresAt;
      await publisher.sandbox.expireTokens(clientId);
      await search(probe);
      // A new access token (a later expiry) is what shows that the search went through a refresh.
      const after = (await mes.authorization())!.expiresAt;
      if (after <= before) throw new CodedError(msg.notRefreshed(probe), 'not_refreshed');
      return { outcome: 'ok', detail: msg.refreshed(probe, after) };
    });

    await step('rate_limit', async () => {
      await publisher.sandbox.injectFault(clientId, { kind: 'rate_limited', target: 'fhir', count: 1, retryAfterSeconds });
      const started = performance.now();
      await search(probe);
      return { outcome: 'ok', detail: msg.rateLimited(retryAfterSeconds, performance.now() - started, probe) };
    });

    await step('withdrawn_grant', async () => {
      const withdrawn = await publisher.sandbox.withdrawGrants(clientId, { patient });
      const refused = await search(probe).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (refused === undefined) throw new CodedError(msg.grantStillUsable(probe), 'grant_still_usable');
      if (!(refused instanceof ReauthorizationRequiredError)) throw refused;
      // No further call with this grant: that is what sandbox.withdrawn_grant looks for.
      return { outcome: 'ok', detail: msg.grantEnded(withdrawn.count ?? 0, refused.reason, (await mes.authorization()) === undefined) };
    });

    let report!: TrafficReport;
    await step('report', async () => {
      report = await publisher.sandbox.report(clientId);
      return { outcome: 'ok', detail: msg.reported(report.requests) };
    });

    this.log('');
    this.log(
      table(steps, [
        { header: 'step', get: (done) => done.step },
        { header: 'outcome', get: (done) => done.outcome },
        { header: 'detail', get: (done) => done.detail },
      ]),
    );
    this.log(`\n${trafficReportDetails(report)}`);
    this.log(`\n${msg.done(appId, clientId)}`);
    return { clientId, patient, steps, report };
  }
}
