import type { components } from '@mes/openapi';
import { Flags } from '@oclif/core';
import { CodedError, MesCommand } from '../base-command.js';
import { writeLogin } from '../credentials.js';
import { messages } from '../messages.js';
import { CLI_SCOPE, hasSession, removeSession, sessionFile } from '../session-storage.js';
import { readStdinText } from '../stdin.js';

type Caller = components['schemas']['Caller'];

export interface LoginResult {
  method: 'device' | 'api_key';
  caller: Pick<Caller, 'kind' | 'id' | 'name' | 'scopes'>;
  /** For a publisher's API key: the publisher and its verification status. */
  publisher?: { id: string; name: string; status: string };
  apiUrl: string;
  /** Where the session (device flow) or the key is saved. */
  configFile: string;
}

export default class Login extends MesCommand<typeof Login> {
  static override summary = 'Sign in: with the device flow (a code to approve in a browser), or save an API key.';
  static override description = `Without flags, prints a URL and a code and waits: open the URL, enter the code and approve with your publisher or reviewer key. The command line then holds a DPoP-bound session (its private key never leaves this machine) that refreshes itself for up to 30 days; publishers get app access (platform/apps.*), reviewers certification access (platform/certification.review).

In the sandbox, --sandbox-user approves the sign-in at once as a seeded account: demo-publisher, reviewer-a, reviewer-b, or reviewer-linked (linked to the demo publisher, so it may not review its apps).

--api-key saves a key instead (checked against the API first). For automation, set MES_TOKEN to a publisher's (mes_pk_…) or a reviewer's (mes_rk_…) key: it takes precedence over everything saved. The session and the key are kept in the CLI's configuration directory (MES_CONFIG_DIR, else $XDG_CONFIG_HOME/mes or ~/.config/mes), readable by you only.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --sandbox-user reviewer-a',
    '<%= config.bin %> <%= command.id %> --api-key mes_pk_…',
    'printenv MES_SANDBOX_KEY | <%= config.bin %> <%= command.id %> --api-key - --api-url https://sandbox.example',
  ];

  static override flags = {
    'api-key': Flags.string({
      summary: 'Save this publisher (mes_pk_…) or reviewer (mes_rk_…) key instead of signing in; "-" reads it from standard input.',
      helpValue: '<key|->',
      exclusive: ['sandbox-user'],
    }),
    'sandbox-user': Flags.string({
      summary: 'Sandbox only: approve the sign-in as this seeded account.',
      options: ['demo-publisher', 'reviewer-a', 'reviewer-b', 'reviewer-linked'],
    }),
  };

  async run(): Promise<LoginResult> {
    return this.flags['api-key'] !== undefined ? this.saveKey(this.flags['api-key']) : this.deviceSignIn();
  }

  private async deviceSignIn(): Promise<LoginResult> {
    const apiUrl = await this.apiUrl();
    const mes = await this.sessionClient();
    const started = await mes.deviceAuthorization({ scope: CLI_SCOPE });
    const user = this.flags['sandbox-user'];
    if (user) {
      await (await this.client({ authenticated: false })).sandbox.approveSignIn({ userCode: started.userCode, user });
      this.log(messages.sandboxApproved(user));
    } else {
      // Instructions go to stderr, so --json and pipes get only the result.
      process.stderr.write(`${messages.deviceInstructions(started.verificationUri, started.userCode, started.verificationUriComplete)}\n`);
    }
    await started.wait();
    const caller = await mes.certification.whoami();
    // A key saved earlier would take precedence over the session: the session replaces it.
    const saved = await this.savedLogin();
    if (saved.apiKey || this.flags['api-url']) await writeLogin(this.config.configDir, this.flags['api-url'] ? { apiUrl } : saved.apiUrl ? { apiUrl: saved.apiUrl } : {});
    const file = sessionFile(this.config.configDir);
    this.log(messages.signedIn(caller.kind, caller.name, caller.id, apiUrl, (caller.scopes ?? []).join(' ')));
    this.log(messages.sessionSaved(file));
    return { method: 'device', caller: { kind: caller.kind, id: caller.id, name: caller.name, scopes: caller.scopes }, apiUrl, configFile: file };
  }

  private async saveKey(given: string): Promise<LoginResult> {
    const apiKey = (given === '-' ? await readStdinText() : given).trim();
    if (!apiKey) throw new CodedError(messages.emptyApiKey, 'invalid_flag');
    const apiUrl = await this.apiUrl();
    const mes = await this.client({ authenticated: true, apiKey });
    const caller = await mes.certification.whoami();
    const publisher = caller.kind === 'publisher' ? await mes.publishers.me() : undefined;
    const file = await writeLogin(this.config.configDir, { apiKey, ...(this.flags['api-url'] ? { apiUrl } : {}) });
    // The key replaces a signed-in session: it is ended on the server, not left open unused.
    if (await hasSession(this.config.configDir)) {
      await (await this.sessionClient()).signOut().catch(() => undefined);
      await removeSession(this.config.configDir);
    }
    this.log(messages.loggedIn(caller.name, caller.id, apiUrl));
    this.log(messages.keySaved(file));
    return {
      method: 'api_key',
      caller: { kind: caller.kind, id: caller.id, name: caller.name, scopes: caller.scopes },
      ...(publisher ? { publisher: { id: publisher.id, name: publisher.name, status: publisher.status } } : {}),
      apiUrl,
      configFile: file,
    };
  }
}
