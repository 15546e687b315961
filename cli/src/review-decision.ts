// What `mes review approve`, `reject` and `request-changes` share: the criteria file, read and
// checked locally against the submission's criteria before anything is sent, then the review.
import { type components } from '@mes/sdk/publisher';
import { verdictProblems } from '@mes/sdk/certification';
import { Args, Flags } from '@oclif/core';
import { CodedError, MesCommand } from './base-command.js';
import { certificationMessages as m } from './certification-messages.js';
import { invalidCriteriaFile, readCriteriaFile, reviewNote, type ReviewDecision } from './review-verdicts.js';
import { details } from './output.js';

export type ReviewOutcome = components['schemas']['ReviewOutcome'];

/** The criteria file's format, for the description of each decision command. */
export const criteriaFileHelp = `--criteria is a JSON file (or "-" for standard input) with a verdict on the criteria of the submission's criteria version ("mes review criteria"), in either form:

  { "criteriaVersion": "2026.1", "verdicts": [{ "criterion": "ethics.purpose", "verdict": "pass" }, { "criterion": "security.keys", "verdict": "fail", "note": "…" }] }

  { "criteriaVersion": "2026.1", "verdicts": { "ethics.purpose": "pass", "security.keys": { "verdict": "fail", "note": "…" } } }

A verdict is "pass", "fail" or "not_applicable"; "fail" and "not_applicable" need a note saying why. "mes review criteria --template > criteria.json" writes the second form with every criterion set to "pass": start from it. The file is checked before anything is sent (unknown or repeated criteria, missing notes, a criteria version other than the submission's): a problem is reported with its JSON pointer and nothing is recorded.

--note is the decision's reasons (up to 5000 characters); with a request for changes it is sent to the publisher.`;

export abstract class ReviewDecisionCommand extends MesCommand<typeof ReviewDecisionCommand> {
  static override args = { submission: Args.string({ description: 'The submission id (see "mes review queue").', required: true }) };
  static override flags = {
    criteria: Flags.string({ char: 'c', summary: 'JSON file with a verdict per criterion, or "-" for standard input (see the description).', required: true, helpValue: '<file|->' }),
    note: Flags.string({ char: 'n', summary: 'The reasons for the decision (sent to the publisher with a request for changes).', required: true, helpValue: '<text>' }),
  };

  protected abstract readonly decision: ReviewDecision;

  async run(): Promise<ReviewOutcome> {
    const note = reviewNote(this.flags.note);
    const path = this.flags.criteria;
    const { file, pointers } = await readCriteriaFile(path, this.config.bin);
    const client = await this.client({ authenticated: true });
    const submission = await client.certification.submission(this.args.submission);
    if (file.criteriaVersion !== submission.criteriaVersion) {
      throw new CodedError(m.criteriaVersionMismatch(path, file.criteriaVersion, submission.criteriaVersion), 'criteria_mismatch');
    }
    const criteria = await client.certification.criteria(submission.criteriaVersion);
    // The server's own rules (from the SDK), so that a review it would refuse is never sent.
    const problems = verdictProblems(criteria, this.decision, file.verdicts, (index) => pointers[index] ?? `/verdicts/${index}`);
    if (problems.length) throw invalidCriteriaFile(path, problems, this.config.bin);

    const outcome = await client.certification.review(submission.id, { decision: this.decision, criteriaVersion: file.criteriaVersion, verdicts: file.verdicts, note });
    const after = outcome.submission;
    this.log(m.reviewRecorded(this.decision, after.id, after.state, after.approvals));
    if (outcome.certificate) {
      this.log(m.certified(outcome.certificate.reference, outcome.certificate.version, outcome.certificate.id));
    }
    this.log(details([['App', `${after.appName} (${after.appId})`], ['Version', after.version], ['Certificate', outcome.certificate?.id ?? null]]));
    return outcome;
  }
}
