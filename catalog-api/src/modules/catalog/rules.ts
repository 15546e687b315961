// Pure rules of the catalogue, free of HTTP and SQL: what makes a redirect URI or a scope
// acceptable, how API keys look, and how text is folded for search and sorting.
import { createHash, randomBytes } from 'node:crypto';
import type { components } from '@mes/openapi';
import { launchUrlAllowed, parseScope } from '../oauth/index.js';
import type { FieldError } from '../../core/errors.js';

const loopbackHosts = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** What every URL an app registers must be: absolute, without fragment, wildcard or user information. */
function registeredUrl(raw: string, noun: 'URI' | 'URL'): { url: URL } | { problem: string } {
  if (raw.includes('#')) return { problem: 'must not contain a fragment' };
  if (raw.includes('*')) return { problem: 'must not contain a wildcard' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: `must be an absolute ${noun}` };
  }
  if (url.username || url.password) return { problem: 'must not contain user information' };
  return { url };
}

/** Why a redirect URI is refused, or null when it is acceptable. */
export function redirectUriProblem(raw: string): string | null {
  const checked = registeredUrl(raw, 'URI');
  if ('problem' in checked) return checked.problem;
  const { url } = checked;
  if (url.protocol === 'https:') {
    if (!url.hostname) return 'must have a host';
    return null;
  }
  if (url.protocol === 'http:') {
    return loopbackHosts.has(url.hostname) ? null : 'must use https (http is allowed only on a loopback address for native apps)';
  }
  return `must use https, not ${url.protocol.replace(/:$/, '')}`;
}

export function redirectUriErrors(uris: readonly string[]): FieldError[] {
  return uris.flatMap((uri, index) => {
    const problem = redirectUriProblem(uri);
    return problem ? [{ pointer: `/body/redirectUris/${index}`, detail: `${uri} ${problem}` }] : [];
  });
}

/** Why a notification endpoint is refused, or null: https only, as an outbound URL of the platform. */
export function notificationEndpointProblem(raw: string): string | null {
  const checked = registeredUrl(raw, 'URL');
  if ('problem' in checked) return checked.problem;
  const { url } = checked;
  if (url.protocol !== 'https:') return `must use https, not ${url.protocol.replace(/:$/, '')}`;
  return url.hostname ? null : 'must have a host';
}

export function notificationEndpointErrors(uris: readonly string[]): FieldError[] {
  return uris.flatMap((uri, index) => {
    const problem = notificationEndpointProblem(uri);
    return problem ? [{ pointer: `/body/notificationEndpoints/${index}`, detail: `${uri} ${problem}` }] : [];
  });
}

/**
 * Why an app's launch URL is refused (pointing at `/body/launchUrl`): it must be acceptable as a
 * redirect URI, on the origin of one of the app's redirect URIs, and the app must register the
 * `launch` scope that an EHR launch is authorized with.
 */
export function launchUrlErrors(app: { launchUrl?: string | null | undefined; redirectUris: readonly string[]; scopes: readonly ScopeRequest[] }): FieldError[] {
  if (!app.launchUrl) return [];
  const error = (detail: string) => [{ pointer: '/body/launchUrl', detail: `${app.launchUrl} ${detail}` }];
  const problem = redirectUriProblem(app.launchUrl);
  if (problem) return error(problem);
  if (!launchUrlAllowed(app.launchUrl, app.redirectUris)) return error('must be on the origin of one of the app’s redirect URIs');
  if (!app.scopes.some((request) => request.scope === 'launch')) return error('needs the launch scope among the app’s scopes: an EHR launch is authorized with it');
  return [];
}

export type ScopeRequest = components['schemas']['ScopeRequest'];

/** Validates every requested scope and returns them in canonical SMART v2 form. */
export function canonicalScopes(scopes: readonly ScopeRequest[]): { scopes: ScopeRequest[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  const result: ScopeRequest[] = [];
  scopes.forEach((request, index) => {
    const parsed = parseScope(request.scope);
    if (!parsed.ok) {
      errors.push({ pointer: `/body/scopes/${index}/scope`, detail: `${request.scope}: ${parsed.reason}` });
      return;
    }
    const previous = seen.get(parsed.canonical);
    if (previous !== undefined) {
      errors.push({ pointer: `/body/scopes/${index}/scope`, detail: `${request.scope} repeats scopes/${previous}` });
      return;
    }
    seen.set(parsed.canonical, index);
    result.push({
      scope: parsed.canonical,
      justification: request.justification,
      ...(request.required ? { required: true } : {}),
      ...(request.purpose ? { purpose: request.purpose } : {}),
    });
  });
  return { scopes: result, errors };
}

/** Lower-case, accents removed, spaces folded: the form in which text is searched and sorted. */
export function foldText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

export const API_KEY_PREFIX = 'mes_pk_';

/** A new key: `prefix` (publishers' `mes_pk_`, reviewers' `mes_rk_`) and 256 random bits; its display prefix and hash. */
export function generateApiKey(prefix: string = API_KEY_PREFIX): { key: string; prefix: string; hash: string } {
  const key = `${prefix}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, prefix.length + 6), hash: hashApiKey(key) };
}

/** API keys carry 256 random bits, so a plain SHA-256 is enough to keep them unusable at rest. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export const catalogVisibleStatuses = ['certified'] as const;
/** Statuses in which an app is, or may come back, in the catalogue: deleting it would orphan patients' grants. */
export const undeletableStatuses = ['certified', 'suspended'] as const;
