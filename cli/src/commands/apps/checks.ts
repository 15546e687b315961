import { Args, Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { evidenceFlag, readEvidence } from '../../sandbox-evidence.js';
import { checkRunView, type CheckRun } from '../../certification-views.js';

export default class AppsChecks extends MesCommand<typeof AppsChecks> {
  static override summary = 'Run the certification checks on one of your apps, without submitting.';
  static override description = `Runs every automated check on the app as it stands (what a submission would snapshot: redirect URIs, documents, scopes, keys, compliance) and on the recorded sandbox traffic of one of its clients (default: the app's first client). Nothing is recorded: run it as often as you like before "mes apps submit".

Prints a row per check (pass, warn or fail) and, for each failing check, what to do. Reviewers cannot approve a submission while a check fails.

Exit status: 0 when no check fails, 1 when one does (--json still prints the whole run).`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> 0b6f…',
    '<%= config.bin %> <%= command.id %> 0b6f… --sandbox-client mes_… --json',
  ];

  static override args = { app: Args.string({ description: 'The app id.', required: true }) };
  static override flags = {
    'sandbox-client': Flags.string({ summary: "The sandbox client whose recorded traffic is the evidence (default: the app's first client).", helpValue: '<clientId>' }),
    evidence: evidenceFlag,
  };

  async run(): Promise<CheckRun> {
    const client = await this.client({ authenticated: true });
    const sandboxClientId = this.flags['sandbox-client'];
    const sandboxEvidence = this.flags.evidence === undefined ? undefined : await readEvidence(this.flags.evidence);
    const run = await client.certification.runAppChecks(this.args.app, { ...(sandboxClientId ? { sandboxClientId } : {}), ...(sandboxEvidence ? { sandboxEvidence } : {}) });
    this.log(checkRunView(run));
    // The run is the command's result (printed under --json); a failing check is the exit status.
    if (run.counts.fail > 0) process.exitCode = 1;
    return run;
  }
}
