import { describe, expect, it } from 'vitest';
import { verdictProblems } from '@mes/sdk/certification';
import { criteriaTemplate, parseCriteriaFile, verdictPointers, type Criteria } from '../src/review-verdicts.js';

const criteria: Criteria = {
  version: '2026.1',
  effectiveFrom: '2026-01-01',
  groups: [
    {
      id: 'ethics',
      title: { fr: 'Éthique', en: 'Ethics' },
      criteria: [
        { id: 'ethics.purpose', title: { fr: 'Finalité' }, guidance: { fr: '…' } },
        { id: 'ethics.transparency', title: { fr: 'Transparence' }, guidance: { fr: '…' } },
      ],
    },
    { id: 'security', title: { fr: 'Sécurité' }, criteria: [{ id: 'security.keys', title: { fr: 'Clés' }, guidance: { fr: '…' } }] },
  ],
};

const parsed = (value: Record<string, unknown>) => {
  const result = parseCriteriaFile(value);
  if (!result.file) throw new Error(JSON.stringify(result.problems));
  return result.file;
};

describe('criteria files', () => {
  it('takes the list form and the object form to the same verdicts', () => {
    const list = parsed({
      criteriaVersion: '2026.1',
      verdicts: [
        { criterion: 'ethics.purpose', verdict: 'pass' },
        { criterion: 'security.keys', verdict: 'fail', note: ' Clé RSA de 1024 bits. ' },
      ],
    });
    const map = parsed({ criteriaVersion: '2026.1', verdicts: { 'ethics.purpose': 'pass', 'security.keys': { verdict: 'fail', note: 'Clé RSA de 1024 bits.' } } });
    expect(list).toEqual(map);
    expect(map.verdicts).toEqual([
      { criterion: 'ethics.purpose', verdict: 'pass' },
      { criterion: 'security.keys', verdict: 'fail', note: 'Clé RSA de 1024 bits.' },
    ]);
  });

  it('the template approves as it is', () => {
    const template = criteriaTemplate(criteria);
    expect(template).toEqual({ criteriaVersion: '2026.1', verdicts: { 'ethics.purpose': 'pass', 'ethics.transparency': 'pass', 'security.keys': 'pass' } });
    const file = parsed(template as unknown as Record<string, unknown>);
    expect(verdictProblems(criteria, 'approve', file.verdicts)).toEqual([]);
    expect(verdictProblems(criteria, 'reject', file.verdicts)).toEqual([{ pointer: '/verdicts', detail: expect.stringMatching(/at least one "fail"/) }]);
  });

  it('points at each problem of form', () => {
    const result = parseCriteriaFile({ criteriaVersion: 3, verdicts: [{ criterion: 'ethics.purpose', verdict: 'yes', extra: 1 }, 'pass', { verdict: 'pass', note: 4 }] });
    expect(result.problems.map((p) => p.pointer)).toEqual(['/criteriaVersion', '/verdicts/0/extra', '/verdicts/0/verdict', '/verdicts/1', '/verdicts/2/criterion', '/verdicts/2/note']);
    expect(parseCriteriaFile({ criteriaVersion: '2026.1', verdicts: {} }).problems).toEqual([{ pointer: '/verdicts', detail: expect.stringMatching(/^empty/) }]);
    expect(parseCriteriaFile({ criteriaVersion: '2026.1', verdicts: { 'a/b~c': 'maybe' } }).problems[0]!.pointer).toBe('/verdicts/a~1b~0c');
  });

  it("applies the server's rules (the SDK's) at the file's own pointers: known criteria once, notes, approve needs all and no fail", () => {
    const value = { criteriaVersion: '2026.1', verdicts: [{ criterion: 'ethics.purpose', verdict: 'fail' }, { criterion: 'ethics.purpose', verdict: 'pass' }, { criterion: 'ethics.nope', verdict: 'not_applicable', note: 'x' }] };
    const pointers = verdictPointers(value);
    const problems = verdictProblems(criteria, 'approve', parsed(value).verdicts, (index) => pointers[index]!);
    expect(problems).toEqual([
      { pointer: '/verdicts/0/note', detail: expect.stringMatching(/needs a note/) },
      { pointer: '/verdicts/0/verdict', detail: expect.stringMatching(/cannot be approved/) },
      { pointer: '/verdicts/1', detail: 'ethics.purpose has two verdicts' },
      { pointer: '/verdicts/2', detail: expect.stringMatching(/^ethics\.nope is not a criterion of version 2026\.1/) },
      { pointer: '/verdicts', detail: expect.stringMatching(/missing: ethics\.transparency, security\.keys$/) },
    ]);
  });
});
