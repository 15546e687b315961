import { sandboxScenarios, type ScenarioResult } from '@mes/sdk/publisher';
import { Args, Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';

export default class SandboxScenario extends MesCommand<typeof SandboxScenario> {
  static override summary = 'Put a synthetic patient into a state your app must handle.';
  static override description = `  consent-withdrawn  every grant for the patient ends (only the client's with --client)
  app-suspended      the app of --client is suspended (needs --client)
  child-turns-18     the patient (a child) comes of age today: their guardians' access ends
  account-closed     the account is closed: grants end, new authorizations are refused
  patient-opposed    the patient opposes access by apps: the same effects, recorded as an opposition

Tokens fail at their next request, not at expiry. The state stays until the sandbox data is reset.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> consent-withdrawn --patient sandbox-patient-1',
    '<%= config.bin %> <%= command.id %> app-suspended --patient sandbox-patient-1 --client mes_…',
    '<%= config.bin %> <%= command.id %> account-closed --patient sandbox-patient-2 --json',
  ];

  static override args = {
    name: Args.string({ description: 'The scenario.', options: [...sandboxScenarios], required: true }),
  };

  static override flags = {
    patient: Flags.string({ summary: 'The synthetic patient (see "mes sandbox patients").', required: true, helpValue: '<id>' }),
    client: Flags.string({ summary: 'The OAuth client_id the scenario is about (app-suspended; consent-withdrawn for this client only).', helpValue: '<clientId>' }),
  };

  async run(): Promise<ScenarioResult> {
    // oclif has already refused a name outside the options; this gives it its type back.
    const scenario = sandboxScenarios.find((name) => name === this.args.name)!;
    const { patient, client: clientId } = this.flags;
    const result = await (await this.client({ authenticated: true })).sandbox.applyScenario({ scenario, patient, ...(clientId ? { clientId } : {}) });
    this.log(messages.scenarioDone(result.scenario, result.patient, result.done));
    return result;
  }
}
