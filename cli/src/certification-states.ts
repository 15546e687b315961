// The states of submissions and certificates, as the --state flags offer them (the spec's enums;
// `satisfies` fails the build when the spec changes without this list).
import type { ListCertificatesParams, ListReviewQueueParams } from '@mes/sdk/publisher';

export const submissionStates = [
  'draft', 'submitted', 'in_review', 'changes_requested', 'approved', 'rejected', 'certified', 'suspended', 'revoked', 'expired', 'superseded',
] as const satisfies readonly NonNullable<ListReviewQueueParams['state']>[];

export const certificateStates = ['certified', 'suspended', 'revoked', 'expired', 'superseded'] as const satisfies readonly NonNullable<ListCertificatesParams['state']>[];
