// The reviewers' guide documents every automated check and every criterion: a check or a
// criterion added without its documentation fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkCatalogue } from '../src/modules/certification/checks.js';
import { criterionIds } from '@mes/sdk/certification';
import { loadCriteria } from '../src/modules/certification/criteria.js';

const guide = readFileSync(new URL('../../docs/reviewers.md', import.meta.url), 'utf8');

describe('docs/reviewers.md', () => {
  it('documents every check by its id', () => {
    const missing = checkCatalogue.map((check) => check.id).filter((id) => !guide.includes(`\`${id}\``) && !guide.includes(`\`${id.split('.')[0]}.*\``));
    expect(missing).toEqual([]);
  });

  it('documents every criterion of every published version', () => {
    const criteria = loadCriteria();
    for (const version of criteria.versions()) {
      expect(guide).toContain(`Version ${version}`);
      expect(criterionIds(criteria.find(version)!).filter((id) => !guide.includes(`\`${id}\``))).toEqual([]);
    }
  });

  it('the criteria name only checks that exist', () => {
    const ids = new Set(checkCatalogue.map((check) => check.id));
    const criteria = loadCriteria();
    for (const version of criteria.versions()) {
      const named = criteria.find(version)!.groups.flatMap((group) => group.criteria.flatMap((criterion) => criterion.checks ?? []));
      expect(named.filter((id) => !ids.has(id))).toEqual([]);
    }
  });
});
