import { criteriaFileHelp, ReviewDecisionCommand } from '../../review-decision.js';

export default class ReviewReject extends ReviewDecisionCommand {
  static override summary = 'Reject a submission (reviewers).';
  static override description = `Closes the submission as rejected: at least one criterion must be "fail", with a note. The publisher must submit a new version. A reviewer linked to the publisher gets reviewer_conflict.

${criteriaFileHelp}`;

  static override examples = ['<%= config.bin %> <%= command.id %> 5d1c… --criteria criteria.json --note "Revente de données de santé prévue par les CGU."'];

  protected readonly decision = 'reject' as const;
}
