// The rules a review's verdicts follow, one implementation for the server (which enforces them)
// and for tools that check a review before sending it (the CLI's criteria file).
import type { components } from '@mes/openapi';

type Criteria = components['schemas']['Criteria'];
type Verdict = components['schemas']['Verdict'];
type ReviewDecision = components['schemas']['ReviewInput']['decision'];

/** A problem of a review's verdicts, located with a JSON pointer. */
export interface VerdictProblem {
  pointer: string;
  detail: string;
}

/** Every criterion id of a criteria version, in the order of its groups. */
export const criterionIds = (criteria: Criteria): string[] => criteria.groups.flatMap((group) => group.criteria.map((criterion) => criterion.id));

/**
 * The problems of the verdicts of a review against its criteria: each criterion known and judged
 * once, a note for every `fail` and `not_applicable`; approving needs a verdict on every
 * criterion and none failing; rejecting or requesting changes needs at least one `fail`.
 * `pointerOf(i)` locates the i-th verdict (default `/verdicts/<i>`, as in the API's body).
 */
export function verdictProblems(
  criteria: Criteria,
  decision: ReviewDecision,
  verdicts: readonly Verdict[],
  pointerOf: (index: number) => string = (index) => `/verdicts/${index}`,
): VerdictProblem[] {
  const known = new Set(criterionIds(criteria));
  const problems: VerdictProblem[] = [];
  const seen = new Set<string>();
  verdicts.forEach((verdict, index) => {
    const pointer = pointerOf(index);
    if (!known.has(verdict.criterion)) problems.push({ pointer, detail: `${verdict.criterion} is not a criterion of version ${criteria.version}` });
    else if (seen.has(verdict.criterion)) problems.push({ pointer, detail: `${verdict.criterion} has two verdicts` });
    seen.add(verdict.criterion);
    if (verdict.verdict !== 'pass' && !verdict.note?.trim()) {
      problems.push({ pointer: `${pointer}/note`, detail: `a ${verdict.verdict} verdict on ${verdict.criterion} needs a note saying why` });
    }
    if (decision === 'approve' && verdict.verdict === 'fail') {
      problems.push({ pointer: `${pointer}/verdict`, detail: `${verdict.criterion} fails: a failing criterion cannot be approved (reject or request changes instead)` });
    }
  });
  if (decision === 'approve') {
    const missing = [...known].filter((id) => !seen.has(id));
    if (missing.length) problems.push({ pointer: '/verdicts', detail: `approving needs a verdict on every criterion; missing: ${missing.join(', ')}` });
  } else if (!verdicts.some((verdict) => verdict.verdict === 'fail')) {
    problems.push({ pointer: '/verdicts', detail: `${decision === 'reject' ? 'rejecting' : 'requesting changes'} needs at least one "fail" verdict, with a note` });
  }
  return problems;
}
