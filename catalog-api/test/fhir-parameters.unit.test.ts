// The result parameters of the FHIR API as pure functions: `_format` and `Accept`, `_elements`,
// `_summary` and `_total`. The server's answers to them are in fhir-rest.integration.test.ts.
import type { components } from '@mes/openapi';
import { describe, expect, it } from 'vitest';
import { FhirError } from '../src/core/fhir-error.js';
import { mandatoryElements, parseElements, SUBSETTED, subsetted } from '../src/modules/records/elements.js';
import { acceptsJson, judgeFormatParameter, negotiateFormat, parseMediaType } from '../src/modules/records/formats.js';
import type { FhirResource } from '../src/modules/records/resources.js';
import { summaryOf, wantsTotal } from '../src/modules/records/search.js';

/** The FhirError a call throws, as status, issue code, expression and diagnostics. */
function refusal(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    return { status: error.status, code: error.issueCode, expression: error.expression, diagnostics: error.message };
  }
  throw new Error('nothing was refused');
}

describe('_format', () => {
  it.each([
    'json',
    'JSON',
    'application/json',
    'application/fhir+json',
    'Application/FHIR+JSON',
    'application/json+fhir',
    'application/fhir json', // an unencoded + reads as a space
    'application/fhir+json;fhirVersion=4.0',
    'application/fhir+json; fhirVersion=4.0.1; charset=utf-8',
    'application/json;charset=UTF-8',
    ' json ',
  ])('accepts %j', (value) => expect(judgeFormatParameter(value)).toEqual({ ok: true }));

  it.each(['xml', 'XML', 'text/xml', 'application/xml', 'application/fhir+xml', 'application/xml+fhir', 'application/fhir xml'])('refuses XML: %j', (value) =>
    expect(judgeFormatParameter(value)).toEqual({ ok: false, diagnostics: expect.stringContaining('XML is not served') }),
  );

  it.each(['html', 'text/html', 'ttl', 'application/fhir+turtle', 'jsonx', '', 'application/fhir+json/x'])('refuses anything else: %j', (value) =>
    expect(judgeFormatParameter(value)).toEqual({ ok: false, diagnostics: expect.stringContaining('only (application/fhir+json)') }),
  );

  it('refuses another FHIR version', () => {
    expect(judgeFormatParameter('application/fhir+json;fhirVersion=3.0')).toEqual({ ok: false, diagnostics: expect.stringContaining('not FHIR 3.0') });
  });

  it('reads a media type with its parameters', () => {
    expect(parseMediaType(' Application/FHIR+json ; fhirVersion="4.0" ;q=0.5;junk')).toEqual({ type: 'application/fhir+json', parameters: { fhirversion: '4.0', q: '0.5' } });
  });
});

describe('Accept', () => {
  it.each([
    undefined,
    '',
    '*/*',
    'application/*',
    'application/fhir+json',
    'application/json',
    'application/json+fhir',
    'application/fhir+json; fhirVersion=4.0',
    'application/fhir+xml, application/fhir+json;q=0.1',
    'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    'application/fhir+json;q=0, application/json',
  ])('admits FHIR JSON: %j', (accept) => expect(acceptsJson(accept)).toBe(true));

  it.each([
    'application/fhir+xml',
    'application/xml, text/xml',
    'text/html',
    'application/fhir+json;q=0',
    'application/fhir+json;q=0, application/json;q=0, application/json+fhir;q=0, */*',
    '*/*;q=0',
    'application/fhir+json; fhirVersion=3.0',
    'json',
  ])('admits no FHIR JSON: %j', (accept) => expect(acceptsJson(accept)).toBe(false));

  it('yields to _format, which wins over it', () => {
    expect(() => negotiateFormat('json', 'application/fhir+xml')).not.toThrow();
    expect(refusal(() => negotiateFormat('xml', 'application/fhir+json'))).toMatchObject({ status: 406, code: 'not-supported', expression: ['_format'] });
    expect(refusal(() => negotiateFormat(undefined, 'application/fhir+xml'))).toMatchObject({ status: 406, code: 'not-supported', diagnostics: expect.stringMatching(/^Accept: /) });
  });
});

describe('_elements', () => {
  it('reads names separated by commas, without repeats', () => {
    expect(parseElements('code,valueQuantity, status,code')).toEqual(['code', 'valueQuantity', 'status']);
    expect(parseElements('value')).toEqual(['value']);
  });

  it.each(['', 'code,', ',code', 'code,,status', 'Code', '1code', 'code.coding', 'Observation.code', 'code status', 'value[x]', 'code;status', '*', 'a'.repeat(65)])(
    'refuses %j, naming _elements',
    (value) => expect(refusal(() => parseElements(value))).toMatchObject({ status: 400, code: 'invalid', expression: ['_elements'] }),
  );

  it('refuses more than 30 names', () => {
    const names = Array.from({ length: 31 }, (_, i) => `element${i}`);
    expect(parseElements(names.slice(0, 30).join(',')).length).toBe(30);
    expect(refusal(() => parseElements(names.join(',')))).toMatchObject({ status: 400, expression: ['_elements'] });
  });

  const observation = {
    resourceType: 'Observation',
    id: 'o-1',
    meta: { versionId: '2', lastUpdated: '2026-11-30T08:00:00.000Z' },
    status: 'final',
    category: [{ coding: [{ code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
    subject: { reference: 'Patient/p-1' },
    effectiveDateTime: '2026-11-30T08:00:00Z',
    valueQuantity: { value: 70.2, code: 'kg' },
    referenceRange: [{ text: 'not an element of the value choice' }],
  } as unknown as components['schemas']['Observation'];

  it('keeps resourceType, id, meta, the mandatory elements and those named, and tags the resource SUBSETTED', () => {
    expect(subsetted(observation, ['subject'], ['resourceType', 'status', 'code'])).toEqual({
      resourceType: 'Observation',
      id: 'o-1',
      meta: { versionId: '2', lastUpdated: '2026-11-30T08:00:00.000Z', tag: [SUBSETTED] },
      status: 'final',
      code: observation.code,
      subject: { reference: 'Patient/p-1' },
    });
  });

  it('names a choice element by its base name, and nothing else by a prefix', () => {
    const subset = subsetted(observation, ['value', 'effective', 'reference', 'cat'], []) as Record<string, unknown>;
    expect(Object.keys(subset).sort()).toEqual(['effectiveDateTime', 'id', 'meta', 'resourceType', 'valueQuantity']);
    expect(Object.keys(subsetted(observation, ['valueQuantity', 'unknown'], [])).sort()).toEqual(['id', 'meta', 'resourceType', 'valueQuantity']);
  });

  it('tags once, keeping other tags, and leaves the stored resource as it was', () => {
    const tagged = { ...observation, meta: { ...observation.meta, tag: [{ system: 'urn:x', code: 'y' }, SUBSETTED] } } as FhirResource;
    expect(subsetted(tagged, ['code'], []).meta!.tag).toEqual([{ system: 'urn:x', code: 'y' }, SUBSETTED]);
    expect(observation.meta).toEqual({ versionId: '2', lastUpdated: '2026-11-30T08:00:00.000Z' });
  });

  it('takes the mandatory elements from the spec', () => {
    expect(mandatoryElements('Observation')).toEqual(['resourceType', 'status', 'code']);
    expect(mandatoryElements('Patient')).toEqual(['resourceType']);
  });
});

describe('_summary and _total', () => {
  it.each([
    [undefined, 'search', 'full'],
    ['false', 'search', 'full'],
    ['data', 'search', 'full'],
    ['count', 'search', 'count'],
    [undefined, 'read', 'full'],
    ['false', 'read', 'full'],
    ['data', 'read', 'full'],
  ] as const)('_summary=%s on a %s answers %s', (value, interaction, mode) => expect(summaryOf(value, interaction)).toBe(mode));

  it.each([
    ['true', 'search'],
    ['text', 'search'],
    ['true', 'read'],
    ['text', 'read'],
    ['count', 'read'],
  ] as const)('refuses _summary=%s on a %s as not supported, naming _summary', (value, interaction) =>
    expect(refusal(() => summaryOf(value, interaction))).toMatchObject({ status: 400, code: 'not-supported', expression: ['_summary'], diagnostics: expect.stringContaining(value) }),
  );

  it('answers a total for estimate and accurate, not for none', () => {
    expect([undefined, 'none', 'estimate', 'accurate'].map(wantsTotal)).toEqual([false, false, true, true]);
  });
});
