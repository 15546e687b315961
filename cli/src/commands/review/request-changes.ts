import { criteriaFileHelp, ReviewDecisionCommand } from '../../review-decision.js';

export default class ReviewRequestChanges extends ReviewDecisionCommand {
  static override summary = 'Send a submission back to its publisher with changes to make (reviewers).';
  static override description = `The submission goes back to the publisher ("changes_requested") with your note and the criteria that failed: they see them in "mes apps status" and resubmit with "mes apps submit". At least one criterion must be "fail", with a note. Approvals given so far stop counting at the resubmission.

${criteriaFileHelp}`;

  static override examples = ['<%= config.bin %> <%= command.id %> 5d1c… --criteria criteria.json --note "Préciser la durée de conservation dans la politique de confidentialité."'];

  protected readonly decision = 'request_changes' as const;
}
