// Every message the CLI prints at run time, in one place (command descriptions and examples sit
// on the command classes, where oclif's help and manifest read them).
export const defaultApiUrl = 'http://localhost:4010';

export const messages = {
  noApiKey: 'Not signed in: run "mes login" (or "mes login --api-key <key>"), or set MES_TOKEN.',
  noApiKeyCode: 'no_api_key',
  unreachable: (message: string) => `${message} Is the server running? Choose it with --api-url or MES_API_URL.`,
  configNotJson: (file: string) => `${file} is not valid JSON. Fix it, or run "mes logout" then "mes login" again.`,
  configTooOpen: (file: string) => `${file} can be read by other users; run "chmod 600 ${file}".`,
  loggedIn: (name: string, id: string, apiUrl: string) => `Logged in to ${apiUrl} as ${name} (${id}).`,
  keySaved: (file: string) => `API key saved in ${file}.`,
  deviceInstructions: (uri: string, code: string, complete: string | undefined) =>
    `To sign in, open ${uri} and enter the code ${code}${complete ? `\n(or open ${complete})` : ''}.\nWaiting for the approval…`,
  signedIn: (kind: string, name: string, id: string, apiUrl: string, scope: string) => `Signed in to ${apiUrl} as ${kind} ${name} (${id}), with ${scope}.`,
  sessionSaved: (file: string) => `Session saved in ${file}; "mes logout" ends it.`,
  sandboxApproved: (user: string) => `Approved in the sandbox as ${user}.`,
  sessionEnded: (file: string) => `Signed out: the session is ended on the server and ${file} removed.`,
  emptyApiKey: 'The API key is empty.',
  loggedOut: (file: string) => `Logged out: removed ${file}.`,
  notLoggedIn: 'Not logged in: nothing to remove.',
  envKeyStillSet: (name: string) => `${name} is still set in your environment and keeps being used.`,
  noApps: 'No apps yet. Create one with "mes apps create --file app.json".',
  noCatalogApps: 'No certified app matches.',
  morePages: (command: string, cursor: string) => `More results: ${command} --cursor ${cursor}`,
  appCreated: (name: string, id: string) => `Created app ${name} (${id}), in draft.`,
  appUpdated: (name: string, id: string) => `Updated app ${name} (${id}).`,
  appDeleted: (id: string) => `Deleted app ${id}.`,
  deleteNeedsYes: (id: string) =>
    `Refusing to delete app ${id} without confirmation: pass --yes (required when not run interactively or with --json).`,
  deletePrompt: (id: string) => `Delete app ${id}? This cannot be undone. Type "yes" to confirm: `,
  deleteCancelled: 'Cancelled: nothing was deleted.',
  nothingToUpdate: 'Nothing to change: pass --file or at least one field flag (see "mes apps update --help").',
  fileNotReadable: (file: string, reason: string) => `Cannot read ${file}: ${reason}`,
  fileNotJson: (file: string) => `${file} is not valid JSON.`,
  fileNotObject: (file: string) => `${file} must contain a JSON object.`,
  badScope: (value: string) =>
    `--scope "${value}" must look like "scope=justification", e.g. "patient/Observation.rs=Lire vos mesures de tension."`,

  // mes sandbox …
  noSandboxPatients: 'No synthetic patient matches.',
  noPublicClient: (appId: string) => `App ${appId} has no public client: the sandbox token needs one (every app gets one at its creation).`,
  noRedirectUri: (appId: string) => `App ${appId} has no redirect URI: add one with "mes apps update ${appId} --redirect-uri <uri>".`,
  unregisteredRedirectUri: (uri: string, registered: readonly string[]) =>
    `--redirect-uri ${uri} is not one of the app's redirect URIs (${registered.join(', ')}); they must match exactly.`,
  noPatientScopes: (appId: string) =>
    `App ${appId} registered no patient/… or context scope: pass --scope, or add scopes with "mes apps update ${appId} --scope …".`,
  noOAuthMetadata: (url: string, status: number) => `${url} answered ${status} without the authorization server's endpoints.`,
  authorizationRefused: (error: string, description: string) => `${error}: the authorization endpoint refused the request${description ? `: ${description}` : '.'}`,
  authorizationNotPreApproved: (location: string) =>
    `The authorization endpoint did not pre-approve consent (it sent the browser to ${location}). Is the server a sandbox?`,
  authorizationWrongIssuer: (got: string, expected: string) => `The authorization response came from ${got}, not ${expected}.`,
  authorizationWrongState: 'The authorization response does not carry the state of the request.',
  tokenRefused: (error: string, description: string) => `${error}: the token endpoint refused the code${description ? `: ${description}` : '.'}`,
  tokenObtained: (patient: string, clientId: string, file: string) => `Token for patient ${patient} from client ${clientId}, saved with its DPoP key in ${file}.`,
  tokenKey: (file: string) => `${file} (dpopPrivateJwk: a throw-away sandbox key, readable by you only)`,
  tokenUsage: (url: string, file: string, bin: string) => [
    'Call the FHIR API with a fresh DPoP proof for each request:',
    `  URL=${url}`,
    `  curl -H "Authorization: DPoP $(jq -r .accessToken ${file})" -H "DPoP: $(${bin} sandbox proof --url "$URL")" "$URL"`,
  ],
  noSandboxToken: 'No saved sandbox token: run "mes sandbox token --app <appId> --patient <id>" first.',
  sandboxTokenInvalid: (file: string) => `${file} is not a saved sandbox token: run "mes sandbox token" again.`,
  sandboxTokenExpired: (expiresAt: string) => `The saved token expired at ${expiresAt}: the server will answer 401. Run "mes sandbox token" again.`,
  badProofUrl: (url: string) => `--url ${url} must be an absolute http(s) URL, e.g. http://localhost:4010/fhir/Observation.`,
  badProofMethod: (method: string) => `--method ${method} must be an HTTP method such as GET or POST.`,
  faultInjected: (kind: string, count: number, target: string, clientId: string) =>
    `Injected ${kind} for the next ${count} ${target === 'any' ? 'token or FHIR' : target === 'token' ? 'token' : 'FHIR'} request(s) of ${clientId}.`,
  noFaults: (clientId: string) => `No pending fault for ${clientId}.`,
  controlDone: (clientId: string, done: string, count?: number) => `${clientId}: ${done}${count === undefined ? '' : ` (${count})`}.`,
  scenarioDone: (scenario: string, patient: string, done: string) => `Scenario ${scenario} for patient ${patient}: ${done}.`,
  reportEmpty: 'No traffic recorded for this client yet (or since its last reset).',
  reportNotesHeader: 'To look at:',
  reportNotes: {
    tokenWithoutProof: (missing: number) => `${missing} token request(s) without a DPoP proof: every token request must carry one.`,
    resourceWithoutProof: (missing: number) => `${missing} FHIR request(s) without a DPoP proof: every resource request must carry one, with ath.`,
    unusedScopes: (types: readonly string[]) => `Scopes asked for but never used (${types.join(', ')}): ask only for what the app reads (least privilege).`,
    refusedCalls: (count: number) => `${count} FHIR call(s) refused for their scope (403): call only what the granted scope allows.`,
    unrecovered: (count: number) => `${count} 401 answer(s) not followed by a new token before the next call: refresh (or sign in again) after a 401.`,
    tooSoon: (status: number, count: number) => `${count} retry(ies) after a ${status} came before Retry-After had passed: wait as told.`,
    usedEndedGrant: (count: number) =>
      `${count} request(s) used a grant after being told it had ended (grant_ended): forget its tokens and ask the patient again.`,
    pollsToSave: (count: number, topics: string[]) =>
      `${count} search(es) found nothing new: subscribe to ${topics.join(', ')} (docs/notifications.md) and search only when notified.`,
  },

  // mes sandbox exercise
  exercise: {
    start: (clientId: string, appId: string, patient: string) =>
      `Exercising client ${clientId} of app ${appId} as patient ${patient}: a reference run of what certification expects, recorded in this client's traffic.`,
    stepStarted: (index: number, total: number, title: string) => `[${index}/${total}] ${title}…`,
    stepEnded: (outcome: string, detail: string) => `      ${outcome}: ${detail}`,
    titles: {
      sign_in: 'Sign the patient in (PAR, PKCE S256, a DPoP-bound code)',
      search: 'One FHIR search per granted resource type',
      refresh: 'Expire the access tokens and search again: the SDK refreshes',
      rate_limit: 'Inject a 429 and search again: the SDK waits for Retry-After',
      withdrawn_grant: 'Withdraw the grant and search again: the SDK stops',
      report: 'Read the traffic report',
    },
    signedIn: (patient: string, pushed: boolean, scopes: readonly string[]) =>
      `${patient} signed in: the authorization request ${pushed ? 'pushed first (PAR), the browser URL carrying only its handle' : 'sent in the browser URL, not pushed (the server offers no PAR)'}, PKCE S256, the code exchanged with a DPoP proof; granted ${scopes.join(' ') || 'nothing'}`,
    searched: (results: readonly (readonly [string, number])[]) => `${results.map(([type, count]) => `${type} ${count}`).join(', ')} (resources on the first page, _count=5)`,
    refreshed: (type: string, expiresAt: Date) =>
      `every access token of the client expired; the SDK refreshed (refresh_token grant with a DPoP proof) and ${type} answered; the new token lasts until ${expiresAt.toISOString()}`,
    refreshSkipped:
      'offline_access was not granted (the scope or the app does not ask for it), so there is no refresh token: the tokens were not expired. Add offline_access to the app\'s scopes (or to --scope) to exercise the refresh',
    rateLimited: (retryAfter: number, waitedMs: number, type: string) =>
      `a 429 with Retry-After: ${retryAfter} was injected; the SDK retried ${(waitedMs / 1000).toFixed(1)} s later and ${type} answered`,
    grantEnded: (withdrawn: number, reason: string, forgotten: boolean) =>
      `${withdrawn} grant(s) withdrawn; the next search was refused (grant_ended) and the SDK threw ReauthorizationRequiredError (${reason})${forgotten ? ', forgot the tokens' : ''} and made no further call`,
    reported: (requests: number) => `${requests} request(s) recorded for the client (since its creation or its last reset)`,
    done: (appId: string, clientId: string) =>
      `Certification reads the app's own traffic, not this reference run: run your app against the sandbox with its own client. Preview the sandbox checks on a client's traffic with "mes apps checks ${appId} --sandbox-client ${clientId}".`,
    stepFailed: (step: string, message: string) => `The ${step} step failed: ${message}`,
    noPublicClient: (appId: string) =>
      `App ${appId} has no public client to exercise (every app gets one at its creation): create one with "mes api createClient --app-id ${appId} --field type=public".`,
    unknownClient: (clientId: string, appId: string) => `--client ${clientId} is not a client of app ${appId} (see "mes api listClients --app-id ${appId}").`,
    notPublicClient: (clientId: string) => `--client ${clientId} is a confidential client: the exercise plays a public client (no client authentication).`,
    faultsPending: (clientId: string, count: number) =>
      `${clientId} has ${count} pending injected fault(s), which would disturb the run: clear them with "mes sandbox faults ${clientId} --clear".`,
    noSearchableScope: (scopes: readonly string[]) =>
      `No scope of ${scopes.join(' ') || 'the authorization'} lets the app search a resource type (patient/<Type>.s, .rs or .read): the run needs one.`,
    notPreApproved: (status: number, location: string | null) =>
      `The authorization endpoint did not pre-approve consent (HTTP ${status}${location ? `, sent to ${location}` : ''}). Is the server a sandbox, and the patient one of its synthetic patients?`,
    notRefreshed: (type: string) => `after the expiry the ${type} search succeeded with the same access token: no refresh happened`,
    grantStillUsable: (type: string) => `after the withdrawal the ${type} search still succeeded: the grant did not end`,
  },
} as const;
