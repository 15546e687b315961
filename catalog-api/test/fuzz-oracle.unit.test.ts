// The fuzzer's own judgement (test/fuzz/): the oracle that says whether a request is valid per the
// spec, the checks on answers, and mutations that break what they say they break. A fuzzer that
// calls a broken request valid, or a wrong answer right, would pass while the server fails.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleAppInput } from '../src/testing.js';
import { checkAnswer, type Answer } from './fuzz/checks.js';
import { loadModel } from './fuzz/model.js';
import { mutate, type MutationClass } from './fuzz/mutations.js';
import { bodyOf, emptyDraft, pathOf, type Draft } from './fuzz/request.js';
import { judge } from './fuzz/validity.js';

const model = loadModel();
const limits = { bodyLimit: 1024 * 1024, jsonMaxDepth: 32 };
const operation = (id: string) => model.byId.get(id)!;
const draft = (changes: Partial<Draft>): Draft => ({ ...emptyDraft(), ...changes });
const verdictOf = (id: string, changes: Partial<Draft>) => {
  const d = draft(changes);
  return judge(model, operation(id), d, bodyOf(operation(id), d).bytes?.length ?? 0, limits).valid;
};
const appId = '6f1d6a2e-2b0f-4d47-9b7a-0d6c1f1e2a3b';

describe('the oracle', () => {
  it('reads integer parameters strictly', () => {
    expect(verdictOf('listApps', { query: [['limit', '20']] })).toBe(true);
    for (const text of ['0x10', ' 1', '1e1', 'Infinity', '99999999999999999999', '01', '+1', '1.0', '-0', '']) {
      expect(verdictOf('listApps', { query: [['limit', text]] }), text).toBe(false);
    }
    expect(verdictOf('listApps', { query: [['limit', '101']] })).toBe(false);
  });

  it('refuses unknown and repeated query parameters, except where unknown ones are ignored', () => {
    expect(verdictOf('listApps', { query: [['mesfuzz', '1']] })).toBe(false);
    expect(verdictOf('listApps', { query: [['limit', '2'], ['limit', '3']] })).toBe(false);
    const authorize = { query: [['client_id', 'mes_x'], ['mesfuzz', '\u0000']] as [string, string][] };
    expect(verdictOf('authorize', authorize)).toBe(true);
    expect(verdictOf('authorize', { query: [['client_id', 'mes_\u0000']] })).toBe(false);
  });

  it('judges bodies by their schema and the platform’s input rules', () => {
    expect(verdictOf('createApp', { body: { value: sampleAppInput() } })).toBe(true);
    expect(verdictOf('createApp', { body: { value: { ...sampleAppInput(), name: 'Tensio\u0000' } } })).toBe(false);
    expect(verdictOf('createApp', { body: { value: { ...sampleAppInput(), name: 'Tensio\ud800' } } })).toBe(false);
    expect(verdictOf('createApp', { body: { value: { ...sampleAppInput(), name: 'Tensio😀' } } })).toBe(true);
    expect(verdictOf('createApp', { body: { value: { ...sampleAppInput(), extra: 1 } } })).toBe(false);
    expect(verdictOf('createApp', { body: { value: sampleAppInput() }, contentType: 'application/json; charset=iso-8859-1' })).toBe(false);
    expect(verdictOf('createApp', { body: { value: sampleAppInput() }, contentType: 'application/json; charset=UTF-8' })).toBe(true);
    expect(verdictOf('createApp', { body: { value: sampleAppInput() }, contentType: 'application/json; charset=utf8' })).toBe(true);
    expect(verdictOf('createApp', { body: { value: sampleAppInput() }, contentType: ['application/json', 'application/json'] })).toBe(false);
    expect(verdictOf('createApp', { body: { value: { ...sampleAppInput(), name: 'x'.repeat(2 * 1024 * 1024) } } })).toBe(false);
    let deep: unknown = 'x';
    for (let i = 0; i < 33; i++) deep = [deep];
    expect(verdictOf('createApp', { body: { value: { ...sampleAppInput(), name: deep } } })).toBe(false);
  });

  it('does not judge what a form or the spec leaves open, and refuses repeated form fields', () => {
    // TokenRequest ignores unknown members (RFC 6749 §3.1): their content is not the server's to refuse.
    expect(verdictOf('token', { body: { value: { grant_type: 'authorization_code', mesfuzz: '\u0000' } } })).toBe(true);
    expect(verdictOf('token', { body: { value: { grant_type: ['authorization_code', 'refresh_token'] } } })).toBe(false);
    expect(verdictOf('getHealth', { rawBody: Buffer.from('{}'), contentType: 'application/json' })).toBe('unknown');
  });

  it('reads path parameters as decoded from their escapes', () => {
    const clients = (raw: string) => verdictOf('listClients', { pathParams: { appId }, rawPathParams: { appId: raw } });
    expect(clients(appId)).toBe(true);
    expect(clients('%C0%AE')).toBe(false);
    expect(clients(`${appId}%00`)).toBe(false);
    expect(verdictOf('listClients', { pathParams: { appId: '' } })).toBe(false);
    expect(pathOf(operation('listClients'), draft({ pathParams: { appId: 'a/b\ud800' } }))).toBe('/apps/a%2Fb%ED%A0%80/clients');
  });

  it('leaves to the platform’s rules a raw path parameter that changes the path itself', () => {
    for (const raw of ['../..', '?x=1', 'a/b', '%23x#y']) {
      const d = draft({ pathParams: { appId }, rawPathParams: { appId: raw } });
      expect(judge(model, operation('listClients'), d, 0, limits), raw).toMatchObject({ valid: 'unknown', retargeted: 'path' });
    }
    for (const raw of ['..', '.']) {
      const d = draft({ pathParams: { appId }, rawPathParams: { appId: raw } });
      expect(judge(model, operation('listClients'), d, 0, limits), raw).toMatchObject({ valid: 'unknown', retargeted: 'dot-segment' });
    }
    // An escaped slash stays inside the segment: the operation is still named.
    expect(verdictOf('listClients', { pathParams: { appId }, rawPathParams: { appId: '%2F' } })).toBe(false);
  });
});

describe('the checks', () => {
  const json = (status: number, body: unknown, type = 'application/json'): Answer => ({ status, headers: { 'content-type': `${type}; charset=utf-8` }, body: Buffer.from(JSON.stringify(body)) });
  const kinds = (id: string, answer: Answer, valid: true | false = true) =>
    checkAnswer(model, operation(id), valid ? { valid: true } : { valid: false, reason: 'test' }, answer).map((finding) => finding.kind);
  const problem = (status: number, code: string) => ({ type: `urn:mes:problem:${code}`, title: 'x', status, code, requestId: 'r' });

  it('hold a request that no longer names its operation to the platform’s error formats only', () => {
    const retargeted = (answer: Answer) => checkAnswer(model, operation('withdrawConnectedApp'), { valid: 'unknown', reason: 'test', retargeted: 'path' }, answer).map((finding) => finding.kind);
    expect(retargeted(json(404, problem(404, 'route_not_found'), 'application/problem+json'))).toEqual([]);
    expect(retargeted({ status: 404, headers: { 'content-type': 'text/plain' }, body: Buffer.from('Not Found') })).toEqual(['error-format']);
    expect(retargeted(json(500, problem(500, 'internal_error'), 'application/problem+json'))).toContain('server-error');
  });

  it('accept a dot segment taken literally as the operation’s value, or resolved as a step in the path', () => {
    const placeholder: Answer = { status: 404, headers: { 'content-type': 'image/svg+xml' }, body: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') };
    const dotSegment = (answer: Answer, retargeted: 'path' | 'dot-segment' = 'dot-segment') =>
      checkAnswer(model, operation('getCatalogueAppLogo'), { valid: 'unknown', reason: 'test', retargeted }, answer).map((finding) => finding.kind);
    // Taken literally: an unknown app, answered with the documented placeholder.
    expect(dotSegment(placeholder)).toEqual([]);
    // Resolved: no route, answered in a platform format.
    expect(dotSegment(json(404, problem(404, 'route_not_found'), 'application/problem+json'))).toEqual([]);
    // A slash in the value changes the path: the operation's own answers no longer apply.
    expect(dotSegment(placeholder, 'path')).toEqual(['error-format']);
    expect(dotSegment({ status: 404, headers: { 'content-type': 'text/plain' }, body: Buffer.from('Not Found') })).toEqual(['error-format']);
  });

  it('accept a documented error in its format, and a success body in its schema', () => {
    expect(kinds('getApp', json(404, problem(404, 'not_found'), 'application/problem+json'))).toEqual([]);
    expect(kinds('getHealth', json(200, { status: 'ok' }))).toEqual([]);
  });

  it('catch 5xx, accepted invalid requests, undocumented statuses, wrong formats and bodies', () => {
    expect(kinds('getApp', json(500, problem(500, 'internal_error'), 'application/problem+json'))).toContain('server-error');
    expect(kinds('getHealth', json(200, { status: 'ok' }), false)).toContain('accepted-invalid');
    expect(kinds('getApp', json(418, problem(418, 'not_found'), 'application/problem+json'))).toContain('undocumented-status');
    expect(kinds('getApp', json(400, { error: 'Bad Request', statusCode: 400 }))).toContain('error-format');
    expect(kinds('getApp', json(404, problem(400, 'not_found'), 'application/problem+json'))).toContain('error-format');
    expect(kinds('readPatient', json(404, problem(404, 'route_not_found'), 'application/problem+json'))).toContain('error-format');
    expect(kinds('getHealth', json(200, { status: 42 }))).toContain('response-schema');
    expect(kinds('createApiKey', json(201, { id: appId, label: 'l', prefix: 'mes_pk_x', createdAt: '2026-01-01T00:00:00Z', lastUsedAt: null, key: 'mes_pk_secret' }))).toContain(
      'cacheable-secret',
    );
  });
});

describe('the mutations', () => {
  const base = draft({ body: { value: sampleAppInput() } });
  const mutated = (mutationClass: MutationClass, seed: number) => {
    const g = fc.sample(fc.gen(), { seed, numRuns: 1 })[0]!;
    return mutate(mutationClass, { g, model, operation: operation('createApp'), bodyLimit: limits.bodyLimit, jsonMaxDepth: limits.jsonMaxDepth }, base)!;
  };

  it.each(['type', 'required', 'nul', 'surrogate', 'nesting', 'repeated-parameter', 'path-encoding'] as const)('%s makes a valid createApp request invalid (or leaves it open)', (mutationClass) => {
    for (let seed = 0; seed < 40; seed++) {
      const { draft: broken, note } = mutated(mutationClass, seed);
      const verdict = judge(model, operation('createApp'), broken, bodyOf(operation('createApp'), broken).bytes?.length ?? 0, limits);
      expect(verdict.valid, `${mutationClass} (seed ${seed}): ${note}`).not.toBe(true);
    }
    expect(base.body!.value).toEqual(sampleAppInput());
  });

  it('are the same for the same seed', () => {
    for (const mutationClass of ['injection', 'size', 'media-type', 'constraint'] as const) {
      expect(mutated(mutationClass, 7).note).toBe(mutated(mutationClass, 7).note);
    }
  });
});
