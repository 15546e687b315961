import { Args, Flags } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { evidenceFlag, readEvidence } from '../../sandbox-evidence.js';
import { submittedView, type Submission } from '../../certification-views.js';

export default class AppsSubmit extends MesCommand<typeof AppsSubmit> {
  static override summary = 'Submit a version of one of your apps for certification.';
  static override description = `Snapshots the app as it stands (redirect URIs, scopes with their justifications and purposes, documents, compliance) as --version, runs the automated checks and puts it in the reviewers' queue, under the criteria version in force. Two reviewers must approve it; the version is then certified and enters the catalogue.

When the reviewers requested changes, this resubmits the open submission instead (with its version, or a new one): the snapshot is taken again, the checks run again, and approvals given so far stop counting. Say what changed with --note.

A version already submitted answers version_exists; another submission waiting for reviewers, submission_open. A certified version stays live until the new one is certified.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> 0b6f… --version 1.0.0',
    '<%= config.bin %> <%= command.id %> 0b6f… --version 1.0.0 --note "Durée de conservation précisée dans la politique de confidentialité." --json',
    '<%= config.bin %> <%= command.id %> 0b6f… --version 1.1.0 --sandbox-client mes_…',
  ];

  static override args = { app: Args.string({ description: 'The app id.', required: true }) };
  static override flags = {
    version: Flags.string({ summary: 'The version submitted, e.g. 1.4.0 (letters, digits, ".", "+", "-"); unique per app.', required: true, helpValue: '<version>' }),
    'sandbox-client': Flags.string({ summary: "The sandbox client whose recorded traffic is the evidence (default: the app's first client).", helpValue: '<clientId>' }),
    evidence: evidenceFlag,
    note: Flags.string({ summary: 'For the reviewers: what changed, answers to their requests (up to 2000 characters).', helpValue: '<text>' }),
  };

  async run(): Promise<Submission> {
    const client = await this.client({ authenticated: true });
    const { version, note } = this.flags;
    const sandboxClientId = this.flags['sandbox-client'];
    const sandboxEvidence = this.flags.evidence === undefined ? undefined : await readEvidence(this.flags.evidence);
    const submission = await client.certification.submit(this.args.app, {
      version,
      ...(sandboxClientId ? { sandboxClientId } : {}),
      ...(sandboxEvidence ? { sandboxEvidence } : {}),
      ...(note ? { note } : {}),
    });
    const resubmitted = submission.decisions.at(-1)?.kind === 'resubmit';
    this.log(submittedView(submission, resubmitted, this.config.bin));
    return submission;
  }
}
