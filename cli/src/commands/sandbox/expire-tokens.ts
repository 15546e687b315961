import type { ControlResult } from '@mes/sdk/publisher';
import { MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { clientIdArg } from '../../sandbox-args.js';

export default class SandboxExpireTokens extends MesCommand<typeof SandboxExpireTokens> {
  static override summary = "Expire the client's access tokens now.";
  static override description = `Every access token issued to the client so far fails as expired at its next use (401, WWW-Authenticate: DPoP error="invalid_token"); refresh tokens keep working, so you can check that your app refreshes. Tokens obtained afterwards work.`;
  static override examples = ['<%= config.bin %> <%= command.id %> mes_…', '<%= config.bin %> <%= command.id %> mes_… --json'];
  static override args = { clientId: clientIdArg };

  async run(): Promise<ControlResult> {
    const result = await (await this.client({ authenticated: true })).sandbox.expireTokens(this.args.clientId);
    this.log(messages.controlDone(result.clientId, result.done, result.count));
    return result;
  }
}
