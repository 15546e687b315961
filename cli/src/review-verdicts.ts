// The reviewer's criteria file (`mes review approve|reject|request-changes --criteria <file>`):
// its two accepted forms and the checks of its form made locally, before the SDK's verdict rules
// (the server's) and anything is sent, and the ready-to-fill template of `mes review criteria --template`.
import type { components } from '@mes/sdk/publisher';
import type { VerdictProblem } from '@mes/sdk/certification';
import { readJsonObject } from './app-fields.js';
import { CodedError } from './base-command.js';
import { certificationMessages as m } from './certification-messages.js';

type Schemas = components['schemas'];
export type Criteria = Schemas['Criteria'];
export type Verdict = Schemas['Verdict'];
export type VerdictValue = Verdict['verdict'];
export type ReviewDecision = Schemas['ReviewInput']['decision'];

export const verdictValues = ['pass', 'fail', 'not_applicable'] as const satisfies readonly VerdictValue[];

/** A criteria file once its form is checked: the verdicts as the API takes them. */
export interface CriteriaFile {
  criteriaVersion: string;
  verdicts: Verdict[];
}

/** A problem of the file, located with a JSON pointer into it. */
export type CriteriaProblem = VerdictProblem;

/** What `mes review criteria --template` prints: every criterion of the version set to "pass". */
export interface CriteriaTemplate {
  criteriaVersion: string;
  verdicts: Record<string, VerdictValue>;
}

const MAX_VERDICTS = 200;
const MAX_NOTE = 2000;
const MAX_REVIEW_NOTE = 5000;

const pointerToken = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isVerdictValue = (value: unknown): value is VerdictValue => typeof value === 'string' && (verdictValues as readonly string[]).includes(value);
const verdictList = verdictValues.map((value) => `"${value}"`).join(', ');

export function criteriaTemplate(criteria: Criteria): CriteriaTemplate {
  const verdicts: Record<string, VerdictValue> = {};
  for (const group of criteria.groups) for (const criterion of group.criteria) verdicts[criterion.id] = 'pass';
  return { criteriaVersion: criteria.version, verdicts };
}

/**
 * Checks the form of a criteria file: `{ criteriaVersion, verdicts }` where verdicts is either a
 * list of `{ criterion, verdict, note? }` or an object from criterion id to `"pass"` (or another
 * verdict) or to `{ verdict, note? }`. Returns the verdicts in the API's form, or the problems.
 */
export function parseCriteriaFile(value: Record<string, unknown>): { file: CriteriaFile; problems: [] } | { file?: undefined; problems: CriteriaProblem[] } {
  const problems: CriteriaProblem[] = [];
  const problem = (pointer: string, detail: string) => problems.push({ pointer, detail });
  for (const key of Object.keys(value)) {
    if (key !== 'criteriaVersion' && key !== 'verdicts') problem(`/${pointerToken(key)}`, 'unknown member: a criteria file has only "criteriaVersion" and "verdicts"');
  }
  const { criteriaVersion } = value;
  if (typeof criteriaVersion !== 'string' || !criteriaVersion.trim()) problem('/criteriaVersion', 'missing: the criteria version the verdicts are for, e.g. "2026.1"');
  else if (criteriaVersion.length > 40) problem('/criteriaVersion', 'longer than 40 characters');

  const verdicts: Verdict[] = [];
  // In the list form the criterion is a member of the entry; in the object form, its key.
  const add = (pointer: string, criterionPointer: string, criterion: unknown, verdict: unknown, note: unknown) => {
    let ok = true;
    if (typeof criterion !== 'string' || !criterion) {
      problem(criterionPointer, 'missing: the id of a criterion, e.g. "ethics.purpose"');
      ok = false;
    } else if (criterion.length > 100) {
      problem(criterionPointer, 'a criterion id is at most 100 characters');
      ok = false;
    }
    if (!isVerdictValue(verdict)) {
      problem(`${pointer}/verdict`, `must be one of ${verdictList}${verdict === undefined ? '' : `, not ${JSON.stringify(verdict)}`}`);
      ok = false;
    }
    if (note !== undefined && typeof note !== 'string') {
      problem(`${pointer}/note`, 'must be a text');
      ok = false;
    } else if (typeof note === 'string' && note.length > MAX_NOTE) {
      problem(`${pointer}/note`, `longer than ${MAX_NOTE} characters`);
      ok = false;
    }
    if (!ok) return;
    const text = typeof note === 'string' ? note.trim() : '';
    verdicts.push({ criterion: criterion as string, verdict: verdict as VerdictValue, ...(text ? { note: text } : {}) });
  };

  const list = value.verdicts;
  if (Array.isArray(list)) {
    list.forEach((entry, index) => {
      const pointer = `/verdicts/${index}`;
      if (!isObject(entry)) return problem(pointer, 'must be an object { "criterion": …, "verdict": …, "note": … }');
      for (const key of Object.keys(entry)) {
        if (key !== 'criterion' && key !== 'verdict' && key !== 'note') problem(`${pointer}/${pointerToken(key)}`, 'unknown member: a verdict has "criterion", "verdict" and "note"');
      }
      add(pointer, `${pointer}/criterion`, entry.criterion, entry.verdict, entry.note);
    });
  } else if (isObject(list)) {
    for (const [criterion, entry] of Object.entries(list)) {
      const pointer = `/verdicts/${pointerToken(criterion)}`;
      if (typeof entry === 'string') {
        if (!isVerdictValue(entry)) problem(pointer, `must be one of ${verdictList}, or { "verdict": …, "note": … }, not ${JSON.stringify(entry)}`);
        else add(pointer, pointer, criterion, entry, undefined);
      } else if (isObject(entry)) {
        for (const key of Object.keys(entry)) {
          if (key !== 'verdict' && key !== 'note') problem(`${pointer}/${pointerToken(key)}`, 'unknown member: a verdict has "verdict" and "note"');
        }
        add(pointer, pointer, criterion, entry.verdict, entry.note);
      } else {
        problem(pointer, `must be one of ${verdictList}, or { "verdict": …, "note": … }`);
      }
    }
  } else {
    problem('/verdicts', 'missing: a list of { "criterion", "verdict", "note" }, or an object from criterion id to verdict');
  }
  if ((Array.isArray(list) && list.length === 0) || (isObject(list) && Object.keys(list).length === 0)) problem('/verdicts', 'empty: give a verdict on every criterion');
  if (verdicts.length > MAX_VERDICTS) problem('/verdicts', `more than ${MAX_VERDICTS} verdicts`);

  if (problems.length) return { problems };
  return { file: { criteriaVersion: (criteriaVersion as string).trim(), verdicts }, problems: [] };
}

/** Where each parsed verdict sits in the file, for error messages that point into it. */
export function verdictPointers(value: Record<string, unknown>): string[] {
  const list = value.verdicts;
  if (Array.isArray(list)) return list.map((_, index) => `/verdicts/${index}`);
  if (isObject(list)) return Object.keys(list).map((criterion) => `/verdicts/${pointerToken(criterion)}`);
  return [];
}

export function invalidCriteriaFile(file: string, problems: readonly CriteriaProblem[], bin: string): CodedError {
  const lines = problems.map((p) => `${p.pointer}: ${p.detail}`);
  return new CodedError(`${m.criteriaFileInvalid(file === '-' ? 'The criteria file (standard input)' : file, lines)}\n${m.criteriaFileHelp(bin)}`, 'invalid_criteria_file', {
    errors: problems.map((p) => ({ pointer: p.pointer, detail: p.detail })),
  });
}

/** Reads and checks the form of a criteria file (a path, or "-" for standard input). */
export async function readCriteriaFile(path: string, bin: string): Promise<{ file: CriteriaFile; pointers: string[] }> {
  const value = await readJsonObject(path);
  const parsed = parseCriteriaFile(value);
  if (!parsed.file) throw invalidCriteriaFile(path, parsed.problems, bin);
  return { file: parsed.file, pointers: verdictPointers(value) };
}

/** The review's note (--note): required and at most 5000 characters, as the server wants it. */
export function reviewNote(note: string): string {
  const text = note.trim();
  if (!text) throw new CodedError(m.emptyNote, 'invalid_flag');
  if (text.length > MAX_REVIEW_NOTE) throw new CodedError(m.noteTooLong(MAX_REVIEW_NOTE), 'invalid_flag');
  return text;
}
