import type { ControlResult } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { clientIdArg } from '../../sandbox-args.js';

export default class SandboxWithdraw extends MesCommand<typeof SandboxWithdraw> {
  static override summary = "Withdraw the client's grants, as the patient would.";
  static override description = `Ends the client's active grants (only those of one patient with --patient), as a patient does from "my connected apps": every token issued under them fails at its next use, refresh tokens included. The app must ask for authorization again.`;
  static override examples = ['<%= config.bin %> <%= command.id %> mes_…', '<%= config.bin %> <%= command.id %> mes_… --patient sandbox-patient-1 --json'];
  static override args = { clientId: clientIdArg };
  static override flags = {
    patient: Flags.string({ summary: "Only this patient's grants (default: every grant of the client).", helpValue: '<id>' }),
  };

  async run(): Promise<ControlResult> {
    const { patient } = this.flags;
    const result = await (await this.client({ authenticated: true })).sandbox.withdrawGrants(this.args.clientId, patient ? { patient } : {});
    this.log(messages.controlDone(result.clientId, result.done, result.count));
    return result;
  }
}
