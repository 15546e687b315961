import type { App } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { CodedError, MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { newEs256Key } from '../../sandbox-dpop.js';
import { preApprovedTokens } from '../../sandbox-oauth.js';
import { writeSandboxToken, type SavedSandboxToken } from '../../sandbox-token.js';
import { sandboxTokenDetails } from '../../views.js';

/** The scopes a patient-data token can carry: SMART resource scopes and the launch context. */
const contextScopes = new Set(['launch/patient', 'offline_access', 'openid', 'fhirUser']);
const tokenScopes = (app: App) => app.scopes.map((s) => s.scope).filter((scope) => scope.startsWith('patient/') || contextScopes.has(scope));

/** A resource type the granted scope lets the printed example call. */
function exampleType(scope: string): string {
  return /(?:^|\s)patient\/([A-Z][A-Za-z]+)\./.exec(scope)?.[1] ?? 'Patient';
}

export default class SandboxToken extends MesCommand<typeof SandboxToken> {
  static override summary = 'Get a patient-data token for one of your apps, as the app would.';
  static override description = `Runs the sandbox's pre-approved authorization code flow through the app's public client: an authorization request with PKCE S256 and login_hint=<patient> (the sandbox approves consent for that patient, or for a child with <guardian>:<child>), then the code exchange with a DPoP proof made with a fresh ES256 key. The redirect is read, never followed, so the redirect URI need not answer.

By default it asks for every patient/… and context scope the app registered, with the app's first redirect URI.

The token, its refresh token (with offline_access) and the DPoP private key it is bound to are saved in sandbox-token.json in the CLI's configuration directory (0600); "mes sandbox proof" signs proofs with that key. --json prints the same object, private JWK included: it is a throw-away sandbox key, bound to this token only. Sandbox servers only.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --app 0b6f… --patient sandbox-patient-1',
    '<%= config.bin %> <%= command.id %> --app 0b6f… --patient sandbox-patient-2:sandbox-patient-5 --scope "patient/Immunization.rs launch/patient"',
    {
      description: 'Call the FHIR API with curl: the token, then a fresh proof for each request',
      command: `TOKEN=$(<%= config.bin %> <%= command.id %> --app 0b6f… --patient sandbox-patient-1 --json | jq -r .accessToken) &&
URL=http://localhost:4010/fhir/Observation &&
curl -H "Authorization: DPoP $TOKEN" -H "DPoP: $(<%= config.bin %> sandbox proof --url "$URL")" "$URL"`,
    },
  ];

  static override flags = {
    app: Flags.string({ summary: 'The app (its id, see "mes apps list").', required: true, helpValue: '<appId>' }),
    patient: Flags.string({ summary: 'The synthetic patient (see "mes sandbox patients"), or <guardian>:<child>.', required: true, helpValue: '<id>' }),
    scope: Flags.string({ summary: 'The scopes to ask for, space-separated (default: every patient/… and context scope of the app).', helpValue: '"<scope> …"' }),
    'redirect-uri': Flags.string({ summary: "One of the app's redirect URIs (default: the first).", helpValue: '<uri>' }),
  };

  async run(): Promise<SavedSandboxToken> {
    const { app: appId, patient: loginHint } = this.flags;
    const client = await this.client({ authenticated: true });
    const [app, clients] = await Promise.all([client.apps.get(appId), client.clients.list(appId)]);
    const publicClient = clients.items.find((candidate) => candidate.type === 'public');
    if (!publicClient) throw new CodedError(messages.noPublicClient(appId), 'no_public_client');
    const redirectUri = this.flags['redirect-uri'] ?? app.redirectUris[0];
    if (!redirectUri) throw new CodedError(messages.noRedirectUri(appId), 'no_redirect_uri');
    if (!app.redirectUris.includes(redirectUri)) throw new CodedError(messages.unregisteredRedirectUri(redirectUri, app.redirectUris), 'invalid_flag');
    const scope = (this.flags.scope ?? tokenScopes(app).join(' ')).trim();
    if (!scope) throw new CodedError(messages.noPatientScopes(appId), 'no_patient_scopes');

    const dpopKey = newEs256Key();
    const tokens = await preApprovedTokens({ baseUrl: client.baseUrl, clientId: publicClient.clientId, redirectUri, scope, loginHint, dpopKey });
    const token: SavedSandboxToken = {
      apiUrl: await this.apiUrl(),
      clientId: publicClient.clientId,
      // With launch/patient the server names the patient; else it is the one the hint approved for.
      patient: tokens.patient ?? loginHint.split(':').at(-1)!,
      accessToken: tokens.access_token,
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      scope: tokens.scope,
      expiresAt: new Date(Date.now() + tokens.expires_in * 1000).toISOString(),
      dpopPrivateJwk: dpopKey,
    };
    const file = await writeSandboxToken(this.config.configDir, token);
    this.log(messages.tokenObtained(token.patient, token.clientId, file));
    this.log(sandboxTokenDetails(token, file));
    this.log(`\n${messages.tokenUsage(new URL(`fhir/${exampleType(token.scope)}`, client.baseUrl).href, file, this.config.bin).join('\n')}`);
    return token;
  }
}
