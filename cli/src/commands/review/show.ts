import { Args } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { submissionDetails, type Submission } from '../../certification-views.js';

export default class ReviewShow extends MesCommand<typeof ReviewShow> {
  static override summary = 'Show a submission to review (reviewers).';
  static override description = `Everything to judge it on: the publisher and version; the snapshot certification covers (scopes with their purpose and justification, redirect URIs, privacy policy and terms, the compliance statement: hosting and its HDS certificate, data protection officer, security contact, retention); the latest automated checks with the remedy of each failing one; the reviews given so far; and the decisions recorded in the public log.

--json prints the submission as the API answers it, with the evidence of every check.`;

  static override examples = ['<%= config.bin %> <%= command.id %> 5d1c…', '<%= config.bin %> <%= command.id %> 5d1c… --json'];
  static override args = { submission: Args.string({ description: 'The submission id (see "mes review queue").', required: true }) };

  async run(): Promise<Submission> {
    const submission = await (await this.client({ authenticated: true })).certification.submission(this.args.submission);
    this.log(submissionDetails(submission));
    return submission;
  }
}
