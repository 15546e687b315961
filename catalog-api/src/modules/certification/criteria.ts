// The published review criteria: one JSON file per version in catalog-api/criteria/, read once at
// start. A submission keeps the criteria version current when it was made, so a new version
// applies to new submissions only.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { components } from '@mes/openapi';
import type { FieldError } from '../../core/errors.js';
import type { Verdict } from './repository.js';

export type Criteria = components['schemas']['Criteria'];

export const criteriaDir = fileURLToPath(new URL('../../../criteria/', import.meta.url));

export interface CriteriaLibrary {
  /** The version new submissions are reviewed against: the newest already in effect. */
  current(now?: Date): Criteria;
  find(version: string): Criteria | null;
  versions(): string[];
}

export function loadCriteria(dir: string = criteriaDir): CriteriaLibrary {
  const all = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Criteria)
    .sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom));
  if (all.length === 0) throw new Error(`no criteria file in ${dir}`);
  return {
    current(now = new Date()) {
      const today = now.toISOString().slice(0, 10);
      return all.filter((criteria) => criteria.effectiveFrom <= today).at(-1) ?? all[0]!;
    },
    find: (version) => all.find((criteria) => criteria.version === version) ?? null,
    versions: () => all.map((criteria) => criteria.version),
  };
}

export const criterionIds = (criteria: Criteria): string[] => criteria.groups.flatMap((group) => group.criteria.map((criterion) => criterion.id));

/**
 * The problems of a review's verdicts against its criteria: each criterion once and known, a note
 * for every `fail` and `not_applicable`; approving needs a verdict on every criterion, none
 * failing; rejecting or requesting changes needs at least one `fail`.
 */
export function verdictErrors(criteria: Criteria, decision: 'approve' | 'reject' | 'request_changes', verdicts: readonly Verdict[]): FieldError[] {
  const known = new Set(criterionIds(criteria));
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  verdicts.forEach((verdict, index) => {
    const pointer = `/verdicts/${index}`;
    if (!known.has(verdict.criterion)) errors.push({ pointer: `${pointer}/criterion`, detail: `${verdict.criterion} is not a criterion of version ${criteria.version}` });
    else if (seen.has(verdict.criterion)) errors.push({ pointer: `${pointer}/criterion`, detail: `${verdict.criterion} has two verdicts` });
    seen.add(verdict.criterion);
    if (verdict.verdict !== 'pass' && !verdict.note?.trim()) errors.push({ pointer: `${pointer}/note`, detail: `a ${verdict.verdict} verdict needs a note saying why` });
  });
  if (decision === 'approve') {
    const missing = [...known].filter((id) => !seen.has(id));
    if (missing.length) errors.push({ pointer: '/verdicts', detail: `approving needs a verdict on every criterion; missing: ${missing.join(', ')}` });
    verdicts.forEach((verdict, index) => {
      if (verdict.verdict === 'fail') errors.push({ pointer: `/verdicts/${index}/verdict`, detail: `${verdict.criterion} fails: a failing criterion cannot be approved` });
    });
  } else if (!verdicts.some((verdict) => verdict.verdict === 'fail')) {
    errors.push({ pointer: '/verdicts', detail: `${decision === 'reject' ? 'rejecting' : 'requesting changes'} needs at least one failing criterion, with a note` });
  }
  return errors;
}
