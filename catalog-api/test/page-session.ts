// A browser for the patient pages, without a browser: keeps its cookies, sends its pages' Origin on
// form posts, does not follow redirects, and signs in through the sandbox's sign-in form.
import { expect } from 'vitest';
import { form } from './oauth-helpers.js';

export function pageBrowser(server: () => { url: string }, headers: Record<string, string> = {}) {
  const jar = new Map<string, string>();
  async function request(method: string, path: string, values?: Record<string, string>) {
    const sent = new Headers(headers);
    const cookies = [...(headers.cookie ? [headers.cookie] : []), ...[...jar].map(([name, value]) => `${name}=${value}`)];
    if (cookies.length) sent.set('cookie', cookies.join('; '));
    if (values) {
      sent.set('content-type', 'application/x-www-form-urlencoded');
      sent.set('origin', server().url);
    }
    const response = await fetch(`${server().url}${path}`, { method, headers: sent, redirect: 'manual', ...(values ? { body: form(values) } : {}) });
    for (const cookie of response.headers.getSetCookie()) {
      const [name, value] = cookie.split(';')[0]!.split('=') as [string, string];
      if (/Max-Age=0/.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, bytes, html: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes), location: response.headers.get('location') };
  }
  return {
    jar,
    get: (path: string) => request('GET', path),
    post: (path: string, values: Record<string, string>) => request('POST', path, values),
    async signIn(patient: string, returnTo = '/patient/apps') {
      const signedIn = await request('POST', '/patient/sign-in', { patient_id: patient, return_to: returnTo });
      expect(signedIn.status, signedIn.html).toBe(303);
      expect(signedIn.location).toBe(returnTo);
      return signedIn;
    },
  };
}
