import { Args } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { checkRunView, type CheckRun } from '../../certification-views.js';

export default class ReviewCheck extends MesCommand<typeof ReviewCheck> {
  static override summary = 'Run the automated checks of a submission again (reviewers).';
  static override description = `Runs every check on the submitted snapshot and the sandbox client's recorded traffic, and records the run as the submission's latest: a submission still "submitted" moves to "in_review". Prints a row per check and the remedy of each failing one.

Exit status: 0 when no check fails, 1 when one does (--json still prints the whole run). A reviewer linked to the publisher gets reviewer_conflict.`;

  static override examples = ['<%= config.bin %> <%= command.id %> 5d1c…', '<%= config.bin %> <%= command.id %> 5d1c… --json'];
  static override args = { submission: Args.string({ description: 'The submission id (see "mes review queue").', required: true }) };

  async run(): Promise<CheckRun> {
    const run = await (await this.client({ authenticated: true })).certification.runSubmissionChecks(this.args.submission);
    this.log(checkRunView(run));
    if (run.counts.fail > 0) process.exitCode = 1;
    return run;
  }
}
