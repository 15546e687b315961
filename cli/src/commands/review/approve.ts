import { criteriaFileHelp, ReviewDecisionCommand } from '../../review-decision.js';

export default class ReviewApprove extends ReviewDecisionCommand {
  static override summary = 'Approve a submission on the criteria (reviewers).';
  static override description = `Records your approval: every criterion must be "pass" or "not_applicable" (with a note), and no automated check may fail (checks_failing). Two approvals from two different reviewers certify the version: the certificate is issued at once, the app enters the catalogue, and the command prints its reference. Approving twice answers already_approved; a reviewer linked to the publisher, reviewer_conflict.

${criteriaFileHelp}`;

  static override examples = [
    '<%= config.bin %> review criteria --template > criteria.json',
    '<%= config.bin %> <%= command.id %> 5d1c… --criteria criteria.json --note "Conforme aux critères 2026.1."',
    'MES_TOKEN=mes_rk_… <%= config.bin %> <%= command.id %> 5d1c… --criteria - --note "Conforme." --json < criteria.json',
  ];

  protected readonly decision = 'approve' as const;
}
