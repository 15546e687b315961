import type { ControlResult } from '@mes/sdk/publisher';
import { MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { clientIdArg } from '../../sandbox-args.js';

export default class SandboxReset extends MesCommand<typeof SandboxReset> {
  static override summary = "Reset the client's sandbox state.";
  static override description = `Clears the client's pending faults, its token expiry mark and its recorded traffic (the report starts again from zero), and reinstates its app if the sandbox suspended it. Grants are kept.`;
  static override examples = ['<%= config.bin %> <%= command.id %> mes_…', '<%= config.bin %> <%= command.id %> mes_… --json'];
  static override args = { clientId: clientIdArg };

  async run(): Promise<ControlResult> {
    const result = await (await this.client({ authenticated: true })).sandbox.reset(this.args.clientId);
    this.log(messages.controlDone(result.clientId, result.done, result.count));
    return result;
  }
}
