// A browser's shoes for the page tests, without a browser: cookies kept (by name), the page's
// Origin sent with its form posts, redirects not followed so each hop can be checked.
import { form } from './oauth-helpers.js';

export interface PageAnswer {
  status: number;
  location: string | null;
  headers: Headers;
  /** The Set-Cookie values of this answer. */
  setCookies: string[];
  html: string;
}

/**
 * `origin`: the Origin the browser's posts carry (default the server's own; the platform's public
 * URL when it is not the one the test server listens on, or another site's to test refusals).
 */
export function pageBrowser(base: () => { url: string }, options: { acceptLanguage?: string; origin?: string } = {}) {
  const cookies = new Map<string, string>();
  async function go(method: 'GET' | 'POST', url: string, values?: Record<string, string>, headers: Record<string, string> = {}): Promise<PageAnswer> {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url.startsWith('http') ? url : `${base().url}${url}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(options.acceptLanguage ? { 'accept-language': options.acceptLanguage } : {}),
        ...(values ? { 'content-type': 'application/x-www-form-urlencoded', origin: options.origin ?? base().url } : {}),
        ...headers,
      },
      ...(values ? { body: form(values) } : {}),
    });
    const setCookies = response.headers.getSetCookie();
    for (const set of setCookies) {
      const [pair = '', ...attributes] = set.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      if (attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute))) cookies.delete(name);
      else cookies.set(name, pair.slice(index + 1).trim());
    }
    return { status: response.status, location: response.headers.get('location'), headers: response.headers, setCookies, html: await response.text() };
  }
  return {
    get: (url: string, headers?: Record<string, string>) => go('GET', url, undefined, headers),
    post: (url: string, values: Record<string, string>, headers?: Record<string, string>) => go('POST', url, values, headers),
    cookies,
    /** The CSRF token of the session, as the page's forms carry it. */
    csrfOf: (html: string) => /name="csrf_token" value="([^"]+)"/.exec(html)?.[1] ?? '',
  };
}
