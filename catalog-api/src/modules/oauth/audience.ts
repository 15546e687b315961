// The audience of patient-data tokens: the FHIR base URL, `<issuer>/fhir`. SMART apps name it in
// the `aud` parameter of their authorization request; a request for any other server is refused,
// so that a token issued here is never one the app meant for someone else.

/** The FHIR base URL of the platform whose issuer identifier is `issuer`. */
export const fhirBaseOf = (issuer: string): string => `${issuer}/fhir`;

/**
 * A URL in the form `aud` values are compared in: scheme and host lower-cased, default port
 * dropped (the URL parser does both), trailing slashes removed. Null for anything but an absolute
 * http(s) URL without credentials, query or fragment.
 */
function normalizedBase(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) return null;
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** Whether an `aud` parameter names the FHIR base URL `fhirBase`. */
export function audienceMatches(aud: string, fhirBase: string): boolean {
  const given = normalizedBase(aud);
  return given !== null && given === normalizedBase(fhirBase);
}
