// The patient pages' scenarios of scenarios.mjs: the public catalogue page (HTML, a full page of
// certified apps) and "my connected apps" of a signed-in patient (session cookie, grants with their
// apps, last accesses and notices), each a server-rendered page with its layout.
const PATIENT = 'bench-page-patient';

/** The catalogue page with `pageSize` app cards (the pages' size, and at least as many certified apps in the store). */
export function cataloguePageScenario(pageSize) {
  return {
    name: 'catalogue-page',
    target: 'platform',
    description: `GET /catalogue: the catalogue page (HTML), ${pageSize} certified apps with their cards`,
    load: () => ({ method: 'GET', path: '/catalogue' }),
    check(response) {
      const cards = response.text.match(/<li class="card"/g)?.length ?? 0;
      if (!response.text.includes('<h1>') || cards !== pageSize) throw new Error(`expected a page of ${pageSize} app cards, got ${cards}`);
    },
  };
}

export const connectedAppsPageScenario = {
  name: 'connected-apps-page',
  target: 'platform',
  description: 'GET /patient/apps with a session cookie: "my connected apps" of a patient with 5 grants (apps, last access, notices)',
  async setup(ctx) {
    // Five grants given through the sandbox's pre-approved consent, then a session for the patient.
    const apps = await ctx.db.query(`SELECT c.id AS client_id, a.id AS app_id FROM oauth_clients c JOIN apps a ON a.id = c.app_id WHERE a.certification_status = 'certified' ORDER BY a.sort_key LIMIT 5`);
    for (const app of apps) {
      await ctx.db.query(
        `INSERT INTO grants (id, app_id, client_id, patient_id, actor_id, scope, expires_at) VALUES (gen_random_uuid(), $1, $2, $3, $3, 'patient/Observation.rs patient/Immunization.rs', now() + interval '90 days')`,
        [app.app_id, app.client_id, PATIENT],
      );
    }
    const signedIn = await fetch(`${ctx.url}/patient/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ctx.url },
      body: new URLSearchParams({ patient_id: PATIENT, return_to: '/patient/apps' }),
    });
    const cookie = signedIn.headers.getSetCookie()[0]?.split(';')[0];
    if (signedIn.status !== 303 || !cookie) throw new Error(`sign-in answered ${signedIn.status}`);
    return { cookie, grants: apps.length };
  },
  load: (params) => ({ method: 'GET', path: '/patient/apps', headers: { cookie: params.cookie } }),
  check(response, params) {
    const buttons = response.text.match(/Retirer l’accès de /g)?.length ?? 0;
    if (buttons !== params.grants) throw new Error(`expected ${params.grants} withdrawal buttons, got ${buttons}`);
  },
};
