// The pure half of `mes api`: URLs, headers, bodies from --body and --field, and error answers.
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../src/api/operation.js';
import { buildBody, buildUrl, describeFailure, failureMessage, fieldValue, formBody, jsonBody, parameterHeaders } from '../../src/api/request.js';

const operation: Operation = {
  operationId: 'doThing',
  method: 'POST',
  path: '/things/{thingId}/parts/{part}',
  summary: 'Do a thing',
  description: '',
  tag: 'things',
  security: ['publisherApiKey'],
  auth: 'apiKey',
  parameters: [
    { name: 'thingId', in: 'path', flag: 'thing-id', required: true, type: 'string', array: false },
    { name: 'part', in: 'path', flag: 'part', required: true, type: 'string', array: false },
    { name: '_count', in: 'query', flag: 'count', required: false, type: 'integer', array: false },
    { name: 'date', in: 'query', flag: 'date', required: false, type: 'string', array: true },
    { name: 'Idempotency-Key', in: 'header', flag: 'idempotency-key', required: false, type: 'string', array: false },
    { name: 'session', in: 'cookie', flag: 'session', required: false, type: 'string', array: false },
  ],
  body: {
    contentType: 'application/json',
    kind: 'json',
    required: true,
    fields: [
      { name: 'name', type: 'string', required: true },
      { name: 'count', type: 'integer', required: false },
      { name: 'uris', type: 'array', items: 'string', required: false },
      { name: 'contact', type: 'object', required: false },
    ],
  },
  responseTypes: ['application/json', 'application/problem+json'],
};

const source = (value: unknown) => ({ name: 'body.json', content: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) });

describe('buildUrl', () => {
  it('fills the path template with encoded segments and appends the query, arrays repeated', () => {
    const url = buildUrl('http://localhost:4010/base/', operation, { 'thing-id': 'a/b c', part: 'p?', count: 5, date: ['ge2026', 'lt2027'] });
    expect(url.href).toBe('http://localhost:4010/base/things/a%2Fb%20c/parts/p%3F?_count=5&date=ge2026&date=lt2027');
  });

  it('refuses path values that would change the resource reached', () => {
    for (const value of ['', '.', '..']) expect(() => buildUrl('http://x', operation, { 'thing-id': value, part: 'p' })).toThrow(/--thing-id/);
  });
});

describe('parameterHeaders', () => {
  it('sends header and cookie parameters and Accepts the response types', () => {
    expect(parameterHeaders(operation, { 'idempotency-key': 'k1', session: 'a b' })).toEqual({
      accept: 'application/json, application/problem+json',
      'idempotency-key': 'k1',
      cookie: 'session=a%20b',
    });
  });
});

describe('JSON bodies', () => {
  it('takes --field values as JSON when they parse, except for string fields', () => {
    expect(fieldValue('123', { name: 'name', type: 'string', required: true })).toBe('123');
    expect(fieldValue('123', { name: 'count', type: 'integer', required: false })).toBe(123);
    expect(fieldValue('{"a":1}', undefined)).toEqual({ a: 1 });
    expect(fieldValue('not json', undefined)).toBe('not json');
    expect(fieldValue('https://a/cb', { name: 'uris', type: 'array', items: 'string', required: false })).toEqual(['https://a/cb']);
    expect(fieldValue('["x","y"]', { name: 'uris', type: 'array', items: 'string', required: false })).toEqual(['x', 'y']);
  });

  it('merges --field over --body; repeated array fields add items', () => {
    const body = jsonBody(operation, source({ name: 'From file', uris: ['old'], other: true }), ['name=From flag', 'uris=a', 'uris=b', 'contact={"email":"e@x.fr"}']);
    expect(body).toEqual({ name: 'From flag', uris: ['a', 'b'], other: true, contact: { email: 'e@x.fr' } });
  });

  it('refuses a body that is not JSON, fields over a non-object, and a field without "="', () => {
    expect(() => jsonBody(operation, source('{nope'), [])).toThrow('body.json is not valid JSON.');
    expect(() => jsonBody(operation, source([1, 2]), ['name=x'])).toThrow(/not a JSON object/);
    expect(() => jsonBody(operation, undefined, ['name'])).toThrow(/name=value/);
  });

  it('needs a required body, and sends none when an optional one is not given', () => {
    expect(() => buildBody(operation, undefined, [])).toThrow(/needs a request body/);
    expect(buildBody({ ...operation, body: { ...operation.body!, required: false } }, undefined, [])).toBeUndefined();
    expect(buildBody(operation, undefined, ['name=x'])).toEqual({ contentType: 'application/json', content: '{"name":"x"}' });
  });
});

describe('form bodies', () => {
  it('reads --body as a JSON object or as name=value& text, then sets --field values', () => {
    expect(formBody(source({ grant_type: 'refresh_token', scope: ['a', 'b'] }), ['scope=c']).toString()).toBe('grant_type=refresh_token&scope=c');
    expect(formBody(source('grant_type=code&code=x'), ['code=y', 'code=z']).toString()).toBe('grant_type=code&code=y&code=z');
    expect(formBody(undefined, ['client_id=mes-cli', 'scope=openid fhirUser']).toString()).toBe('client_id=mes-cli&scope=openid+fhirUser');
  });
});

describe('describeFailure', () => {
  const headers = (init: Record<string, string> = {}) => new Headers(init);

  it('reads an RFC 9457 problem with its field errors and the request id header', () => {
    const problem = { type: 'about:blank', title: 'Invalid', status: 400, code: 'validation_failed', detail: 'The request is invalid.', errors: [{ pointer: '/name', detail: 'is required' }] };
    const failure = describeFailure(400, 'Bad Request', headers({ 'x-request-id': 'r1' }), JSON.stringify(problem));
    expect(failure).toEqual({ code: 'validation_failed', detail: 'The request is invalid.', requestId: 'r1', errors: [{ pointer: '/name', detail: 'is required' }] });
    expect(failureMessage(failure)).toBe('validation_failed: The request is invalid. (request id r1)\n  /name: is required');
  });

  it('reads OAuth errors, OperationOutcomes and challenges, else names the status', () => {
    expect(describeFailure(400, '', headers(), '{"error":"invalid_grant","error_description":"The code expired."}')).toMatchObject({ code: 'invalid_grant', detail: 'The code expired.' });
    const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'No such Observation.' }] };
    expect(describeFailure(404, '', headers(), JSON.stringify(outcome))).toMatchObject({ code: 'not-found', detail: 'No such Observation.' });
    expect(describeFailure(401, '', headers({ 'www-authenticate': 'DPoP error="invalid_token", error_description="expired"' }), JSON.stringify(outcome))).toMatchObject({
      code: 'invalid_token',
    });
    expect(describeFailure(502, 'Bad Gateway', headers(), '<h1>Bad gateway</h1>')).toEqual({ code: 'http_502', detail: 'HTTP 502 Bad Gateway' });
  });

  it('keeps control characters of the server out of the terminal', () => {
    expect(failureMessage({ code: 'x', detail: 'a\u001b[2Jb' })).toBe('x: a [2Jb');
  });
});
