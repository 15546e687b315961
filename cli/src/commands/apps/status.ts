import { Args } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { certificationOverviewView, type CertificationOverview } from '../../certification-views.js';

export default class AppsStatus extends MesCommand<typeof AppsStatus> {
  static override summary = 'Show where one of your apps stands in certification.';
  static override description = `The app's certification status; its live certificate (reference, version, state, validity); the submission under way, with its approvals and each reviewer's decision and note (the reasons when changes were requested, and the criteria that failed); and its recent submissions.`;

  static override examples = ['<%= config.bin %> <%= command.id %> 0b6f…', '<%= config.bin %> <%= command.id %> 0b6f… --json'];
  static override args = { app: Args.string({ description: 'The app id.', required: true }) };

  async run(): Promise<CertificationOverview> {
    const overview = await (await this.client({ authenticated: true })).certification.status(this.args.app);
    this.log(certificationOverviewView(overview, this.config.bin));
    return overview;
  }
}
