// Content negotiation of the FHIR API: the server writes FHIR R4 JSON only. `_format` (which wins
// over `Accept`, FHIR R4 http.html#mime-type) and `Accept` are judged once for every FHIR route;
// a request that admits no JSON form is answered 406 with an OperationOutcome before its handler runs.
import type { FastifyRequest } from 'fastify';
import { FhirError } from '../../core/fhir-error.js';

/** The names of FHIR JSON: `_format`'s short form, the media types, and the pre-R4 one. */
const jsonTypes: ReadonlySet<string> = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);
const xmlTypes: ReadonlySet<string> = new Set(['xml', 'text/xml', 'application/xml', 'application/fhir+xml', 'application/xml+fhir']);
/** The `fhirVersion` media-type parameter names a FHIR version by major.minor; R4 is 4.0. */
const servedVersions: ReadonlySet<string> = new Set(['4.0', '4.0.1']);

interface MediaType {
  type: string;
  parameters: Record<string, string>;
}

/**
 * `type/subtype; name=value; …`, lower-cased but for parameter values. A `+` sent unencoded in a
 * query string arrives as a space (`application/fhir json`): it is read as the `+` it was.
 */
export function parseMediaType(text: string): MediaType {
  const [type = '', ...parameters] = text.split(';');
  const result: MediaType = { type: type.trim().toLowerCase().replace(/\s+/g, '+'), parameters: {} };
  for (const parameter of parameters) {
    const index = parameter.indexOf('=');
    if (index === -1) continue;
    result.parameters[parameter.slice(0, index).trim().toLowerCase()] = parameter.slice(index + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return result;
}

const servesVersion = (media: MediaType) => media.parameters.fhirversion === undefined || servedVersions.has(media.parameters.fhirversion);

export type Verdict = { ok: true } | { ok: false; diagnostics: string };

const onlyJson = 'this server answers FHIR JSON only (application/fhir+json)';

/** Whether a `_format` value names FHIR R4 JSON, and if not, what to tell the app. */
export function judgeFormatParameter(value: string): Verdict {
  const media = parseMediaType(value);
  if (jsonTypes.has(media.type)) {
    return servesVersion(media) ? { ok: true } : { ok: false, diagnostics: `_format: ${onlyJson} of FHIR 4.0, not FHIR ${media.parameters.fhirversion}` };
  }
  if (xmlTypes.has(media.type)) return { ok: false, diagnostics: `_format: ${onlyJson}; XML is not served` };
  return { ok: false, diagnostics: `_format: ${JSON.stringify(value)} is not a format this server serves; ${onlyJson}: use json or application/fhir+json` };
}

/** The media types FHIR JSON goes by in `Accept`: any of them will do, the answer is labelled the first. */
const jsonMediaTypes = ['application/fhir+json', 'application/json', 'application/json+fhir'];

/** How specifically a media range of `Accept` covers `type`: 0 when it does not. */
function specificity(range: MediaType, type: string): number {
  if (range.type === type) return servesVersion(range) ? 3 : 0;
  if (range.type === 'application/*') return 2;
  return range.type === '*/*' ? 1 : 0;
}

/**
 * Whether an `Accept` header admits FHIR JSON under one of its names: for that name, the most
 * specific range that covers it (`application/fhir+json`, then `application/*`, then the full wildcard)
 * has a quality above 0 (RFC 9110 §12.5.1). An absent or empty header admits anything.
 */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  const ranges = accept.split(',').map(parseMediaType);
  return jsonMediaTypes.some((type) => {
    let best = 0;
    let quality = 0;
    for (const range of ranges) {
      const rank = specificity(range, type);
      if (rank <= best) continue;
      best = rank;
      const q = range.parameters.q === undefined ? 1 : Number(range.parameters.q);
      quality = Number.isFinite(q) ? q : 0;
    }
    return quality > 0;
  });
}

/** Refuses, with 406, a request whose `_format` (or, without one, `Accept`) admits no FHIR JSON. */
export function negotiateFormat(format: unknown, accept: string | undefined): void {
  if (typeof format === 'string') {
    const verdict = judgeFormatParameter(format);
    if (!verdict.ok) throw new FhirError(406, 'not-supported', verdict.diagnostics, { expression: ['_format'] });
    return;
  }
  // A repeated `_format` is left to the schema, which names it (400).
  if (format !== undefined) return;
  if (!acceptsJson(accept)) throw new FhirError(406, 'not-supported', `Accept: ${onlyJson}, and the request accepts none of its forms (send Accept: application/fhir+json)`);
}

/** The hook of every FHIR operation: after authentication, before validation and the handler. */
export async function fhirFormatHook(request: FastifyRequest): Promise<void> {
  if (request.routeOptions.config?.errorFormat !== 'fhir') return;
  negotiateFormat((request.query as Record<string, unknown> | undefined)?._format, request.headers.accept);
}
