import type { ControlResult } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { clientIdArg } from '../../sandbox-args.js';

export default class SandboxSuspend extends MesCommand<typeof SandboxSuspend> {
  static override summary = "Suspend the client's app, or reinstate it.";
  static override description = `Suspends the app of the client, as a reviewer suspends a certification: its tokens stop working at once (401) and no new ones are issued. --reinstate gives the app back the status it had before.`;
  static override examples = ['<%= config.bin %> <%= command.id %> mes_…', '<%= config.bin %> <%= command.id %> mes_… --reinstate'];
  static override args = { clientId: clientIdArg };
  static override flags = {
    reinstate: Flags.boolean({ summary: 'Lift the suspension instead.' }),
  };

  async run(): Promise<ControlResult> {
    const { sandbox } = await this.client({ authenticated: true });
    const result = this.flags.reinstate ? await sandbox.reinstateApp(this.args.clientId) : await sandbox.suspendApp(this.args.clientId);
    this.log(messages.controlDone(result.clientId, result.done, result.count));
    return result;
  }
}
