// A request as the fuzzer builds and mutates it (a Draft: structured path, query, header and body
// values), and its serialization to the bytes sent. Strings are encoded as UTF-8 except lone
// surrogates, which UTF-8 cannot carry: they go out as their CESU bytes (%ED%A0%80), an invalid
// UTF-8 sequence, which is what a hostile client sends when it tries.
import type { FuzzOperation } from './model.js';

export type FormValue = Record<string, string | string[]>;

export interface Draft {
  /** Decoded values of the path parameters. */
  pathParams: Record<string, string>;
  /** Path parameters sent as written (already percent-encoded, possibly badly). */
  rawPathParams: Record<string, string>;
  /** Decoded query pairs, in order, repetitions allowed. */
  query: [string, string][];
  /** Query text appended as written (bad encodings). */
  rawQuery?: string;
  /** Header parameters of the operation (and other headers a mutation adds); an array is sent as repeated lines. */
  headers: Record<string, string | string[]>;
  /** The body as a value: JSON, or a form (a repeated field is an array). */
  body?: { value: unknown };
  /** The body's bytes when a mutation wrote them itself; `body` then only describes them. */
  rawBody?: Buffer;
  /**
   * Content-Type: absent to use the operation's media type (when there is a body), `null` for
   * none, an array for repeated header lines.
   */
  contentType?: string | string[] | null;
  /**
   * What a mutation of the bytes did that the structured view cannot show, and whether the spec
   * or the platform's rules make it invalid (`invalid`) or leave it open (`unknown`).
   */
  wire?: { invalid?: string; unknown?: string };
}

export function emptyDraft(): Draft {
  return { pathParams: {}, rawPathParams: {}, query: [], headers: {} };
}

export function cloneDraft(draft: Draft): Draft {
  return {
    ...draft,
    pathParams: { ...draft.pathParams },
    rawPathParams: { ...draft.rawPathParams },
    query: draft.query.map(([name, value]) => [name, value]),
    headers: { ...draft.headers },
    ...(draft.body ? { body: { value: structuredClone(draft.body.value) } } : {}),
    ...(draft.wire ? { wire: { ...draft.wire } } : {}),
  };
}

/** Percent-encodes like encodeURIComponent, but sends lone surrogates as invalid UTF-8 instead of throwing. */
export function encodeComponent(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += encodeURIComponent(value.slice(i, i + 2));
        i++;
        continue;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      out += `%${(0xe0 | (code >> 12)).toString(16).toUpperCase()}%${(0x80 | ((code >> 6) & 0x3f)).toString(16).toUpperCase()}%${(0x80 | (code & 0x3f)).toString(16).toUpperCase()}`;
      continue;
    }
    out += encodeURIComponent(value[i]!);
  }
  return out;
}

export function encodePairs(pairs: [string, string][]): string {
  return pairs.map(([name, value]) => `${encodeComponent(name)}=${encodeComponent(value)}`).join('&');
}

export function formPairs(value: FormValue): [string, string][] {
  return Object.entries(value).flatMap(([name, inner]) => (Array.isArray(inner) ? inner.map((item): [string, string] => [name, String(item)]) : [[name, String(inner)]]));
}

/** The request path with its query, as sent. */
export function pathOf(operation: FuzzOperation, draft: Draft): string {
  const path = operation.path.replace(/\{([^}]+)\}/g, (_match, name: string) => draft.rawPathParams[name] ?? encodeComponent(draft.pathParams[name] ?? ''));
  const query = [encodePairs(draft.query), draft.rawQuery ?? ''].filter(Boolean).join('&');
  return query ? `${path}?${query}` : path;
}

/** The body bytes and the Content-Type lines to send, if any. */
export function bodyOf(operation: FuzzOperation, draft: Draft): { bytes?: Buffer; contentType: string[] } {
  const declared = draft.contentType === null ? [] : draft.contentType === undefined ? undefined : [draft.contentType].flat();
  if (draft.rawBody) return { bytes: draft.rawBody, contentType: declared ?? [operation.body?.mediaType ?? 'application/json'] };
  if (!draft.body) return { contentType: declared ?? [] };
  const mediaType = operation.body?.mediaType ?? 'application/json';
  const text = mediaType === 'application/x-www-form-urlencoded' ? encodePairs(formPairs(draft.body.value as FormValue)) : JSON.stringify(draft.body.value);
  return { bytes: Buffer.from(text, 'utf8'), contentType: declared ?? [mediaType] };
}
