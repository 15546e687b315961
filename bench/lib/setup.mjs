// What scenarios set up through the platform's own API in the main thread (never measured): JSON
// calls that fail loudly, and a publisher of the scenario's own, with its API key.
// No import of the platform here: the load generator imports the scenario modules too.

/** JSON call to the platform's API, failing loudly on anything but the expected status. */
export async function api(ctx, method, path, { key, body, expect = [200, 201] } = {}) {
  const response = await fetch(`${ctx.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!expect.includes(response.status)) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** A new publisher (usable at once in the sandbox) for one scenario: its API key. */
export async function newPublisher(ctx, name) {
  const registered = await api(ctx, 'POST', '/publishers', {
    body: { name, registrationNumber: ctx.api.uniqueRegistrationNumber(), contactEmail: 'banc@banc-essai.example.fr', domains: ['banc-essai.example.fr'] },
  });
  return registered.apiKey.key;
}
