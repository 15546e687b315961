// A scripted `fetch` for unit tests: answers each request with the next scripted reply and
// records what was sent. Only the SDK's own logic is under test here; integration tests use a
// real server.
import type { FetchLike } from '@mes/sdk';

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

export type Reply = Response | Error | ((request: RecordedRequest) => Response | Promise<Response>);

export interface FakeFetch {
  fetch: FetchLike;
  requests: RecordedRequest[];
}

export function fakeFetch(...replies: Reply[]): FakeFetch {
  const requests: RecordedRequest[] = [];
  const fetch: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    const recorded: RecordedRequest = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body: await request.text(),
    };
    requests.push(recorded);
    const reply = replies.shift();
    if (reply === undefined) throw new Error(`Unexpected request ${recorded.method} ${recorded.url.href}`);
    if (reply instanceof Error) throw reply;
    if (typeof reply === 'function') return reply(recorded);
    return reply;
  };
  return { fetch, requests };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function problem(status: number, code: string, detail: string, headers: Record<string, string> = {}, extra = {}): Response {
  const requestId = headers['x-request-id'] ?? 'req-0000000001';
  return new Response(
    JSON.stringify({ type: `urn:mes:problem:${code}`, title: code, status, detail, instance: '/x', code, requestId, ...extra }),
    { status, headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId, ...headers } },
  );
}

/** What `fetch` throws when the connection is refused. */
export function networkError(): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
}

export const baseUrl = 'https://api.test.example';
