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
