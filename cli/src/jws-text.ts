// A signed document (a certificate, sandbox evidence) as people save it: the compact JWS alone, or
// the JSON the API answered, whose `jws` member holds it.

export const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The JWS in a text, or why there is none (`not_json`: it starts like JSON but is not; `no_jws`). */
export function jwsInText(text: string): { jws: string } | { problem: 'not_json' | 'no_jws' } {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return compactJws.test(trimmed) ? { jws: trimmed } : { problem: 'no_jws' };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { problem: 'not_json' };
  }
  const jws = (value as { jws?: unknown } | null)?.jws;
  return typeof jws === 'string' && compactJws.test(jws.trim()) ? { jws: jws.trim() } : { problem: 'no_jws' };
}
