import type { TrafficReport } from '@mes/sdk/publisher';
import { MesCommand } from '../../base-command.js';
import { clientIdArg } from '../../sandbox-args.js';
import { trafficReportDetails } from '../../views.js';

export default class SandboxReport extends MesCommand<typeof SandboxReport> {
  static override summary = 'What the sandbox saw of the client.';
  static override description = `From the client's recorded traffic (since its creation or its last reset): requests, grant types, authorization requests with PAR and PKCE, DPoP proofs at the token endpoint and the FHIR API, refreshes, scopes requested against the resource types called (unused scopes: least privilege), calls refused for their scope, and how the app reacted to 401, 429 and 503. Then what to look at.

Certification uses the same report as evidence of how the app behaves. --json prints the server's report as it is.`;
  static override examples = ['<%= config.bin %> <%= command.id %> mes_…', '<%= config.bin %> <%= command.id %> mes_… --json'];
  static override args = { clientId: clientIdArg };

  async run(): Promise<TrafficReport> {
    const report = await (await this.client({ authenticated: true })).sandbox.report(this.args.clientId);
    this.log(trafficReportDetails(report));
    return report;
  }
}
