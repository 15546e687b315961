import type { ControlResult, FaultList } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { clientIdArg } from '../../sandbox-args.js';
import { faultsTable } from '../../views.js';

export default class SandboxFaults extends MesCommand<typeof SandboxFaults> {
  static override summary = "List the client's pending faults, or clear them.";
  static override description = `Faults injected with "mes sandbox inject" and still waiting for requests, oldest first, with how many requests each still applies to. --clear removes them all: the client gets real answers again.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> mes_…',
    '<%= config.bin %> <%= command.id %> mes_… --json',
    '<%= config.bin %> <%= command.id %> mes_… --clear',
  ];

  static override args = { clientId: clientIdArg };
  static override flags = {
    clear: Flags.boolean({ summary: 'Remove every pending fault of the client.' }),
  };

  async run(): Promise<FaultList | ControlResult> {
    const client = await this.client({ authenticated: true });
    const { clientId } = this.args;
    if (this.flags.clear) {
      const result = await client.sandbox.clearFaults(clientId);
      this.log(messages.controlDone(result.clientId, result.done, result.count));
      return result;
    }
    const faults = await client.sandbox.listFaults(clientId);
    this.log(faults.items.length ? faultsTable(faults.items) : messages.noFaults(clientId));
    return faults;
  }
}
