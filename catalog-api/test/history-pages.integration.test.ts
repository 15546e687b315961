// The patient's access history page and its CSV export, driven like a browser: accesses made
// for real (authorizations and FHIR calls of two apps, for a parent and their child), then what
// the parent sees, each filter, the pages of 50, the CSV file (encoding, quoting, formula
// defence, the cap), English, and every refusal (no session, bad filters, another person's rows).
import { beforeAll, describe, expect, it } from 'vitest';
import { recordAccess } from '../src/modules/audit/index.js';
import { csvCell, EXPORT_LIMIT, PAGE_SIZE } from '../src/web/history-pages.js';
import { appInput, call, registerPublisher, useServer } from './helpers.js';
import { fhirRequest, patientToken, seedGuardianship, seedRecord, type PatientSession } from './fhir-helpers.js';
import { form, newKeys, pkce, postForm } from './oauth-helpers.js';
import { pageBrowser } from './page-session.js';

const server = useServer();
const PARENT = 'history-page-parent';
const CHILD = 'history-page-child';
const STRANGER = 'history-page-stranger';
const BULK = 'history-page-bulk';
/** An app name a spreadsheet would run as a formula, with quotes and both separators in it. */
const TRICKY_NAME = '=Carnet "Vaccins"; famille, enfants';
const redirectUri = 'https://carnet.example.fr/oauth/callback';
const DAY = 86_400_000;

let tensio: PatientSession;
let carnet: { appId: string };
let strangerApp: PatientSession;

/** A day in Paris time, YYYY-MM-DD. */
const parisDay = (date: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);

/** An app with a chosen name, authorized for `patient` through the sandbox (as patientToken does). */
async function namedAppToken(name: string, patient: string, scope: string): Promise<{ appId: string; token: string; keys: Awaited<ReturnType<typeof newKeys>> }> {
  const publisher = await registerPublisher(server(), 'Éditeur du carnet');
  const app = await call(server(), 'POST', '/apps', {
    key: publisher.key,
    body: appInput({ name, websiteUrl: 'https://carnet.example.fr', redirectUris: [redirectUri], scopes: [{ scope, justification: 'Pour les tests.' }] }),
  });
  expect(app.status, JSON.stringify(app.body)).toBe(201);
  const [client] = (await call(server(), 'GET', `/apps/${app.body.id}/clients`, { key: publisher.key })).body.items;
  const { verifier, challenge } = pkce();
  const authorize = await fetch(
    `${server().url}/oauth/authorize?${form({ client_id: client.clientId, response_type: 'code', redirect_uri: redirectUri, scope, code_challenge: challenge, code_challenge_method: 'S256', login_hint: patient })}`,
    { redirect: 'manual' },
  );
  const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
  const keys = await newKeys();
  const tokens = await postForm(server().url, '/oauth/token', form({ grant_type: 'authorization_code', client_id: client.clientId, code, code_verifier: verifier, redirect_uri: redirectUri }), keys);
  expect(tokens.status).toBe(200);
  return { appId: app.body.id, token: tokens.body.access_token, keys };
}

beforeAll(async () => {
  await seedRecord(server(), PARENT, { given: 'Claire', family: 'Martin' });
  await seedRecord(server(), CHILD, { given: 'Léo', family: 'Martin', birthDate: '2018-02-03' });
  await seedRecord(server(), STRANGER, { given: 'Paul', family: 'Durand' });
  await seedGuardianship(server(), PARENT, CHILD, '2036-02-03');

  // Two entries in the past (there is no clock to move): appended by the history's own function.
  tensio = await patientToken(server(), PARENT, 'patient/Observation.crs patient/Immunization.rs patient/Condition.rs patient/AllergyIntolerance.rs');
  const past = { patientId: PARENT, appId: tensio.appId, clientId: tensio.clientId, grantId: tensio.grantId, actorId: PARENT };
  await recordAccess(server().app.db, { ...past, resourceType: 'AllergyIntolerance', interaction: 'read', resourceCount: 1 }, new Date(Date.now() - 400 * DAY));
  await recordAccess(server().app.db, { ...past, resourceType: 'Condition', interaction: 'search', resourceCount: 3 }, new Date(Date.now() - 40 * DAY));

  // Today, through the FHIR API: TensioSuivi for the parent, then the tricky app for the child.
  expect((await fhirRequest(server(), tensio, 'GET', '/fhir/Immunization')).status).toBe(200);
  expect((await fhirRequest(server(), tensio, 'GET', `/fhir/Observation/${PARENT}-bp-1`)).status).toBe(200);
  const created = await fhirRequest(server(), tensio, 'POST', '/fhir/Observation', {
    body: {
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
      effectiveDateTime: new Date(Date.now() - 3600_000).toISOString(),
      valueQuantity: { value: 70.4, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    },
  });
  expect(created.status).toBe(201);
  const carnetToken = await namedAppToken(TRICKY_NAME, CHILD, 'patient/Immunization.rs');
  carnet = { appId: carnetToken.appId };
  expect((await fhirRequest(server(), carnetToken, 'GET', '/fhir/Immunization')).status).toBe(200);

  // Someone else, with their own app: never on the parent's page.
  strangerApp = await patientToken(server(), STRANGER, 'patient/Observation.rs');
  expect((await fhirRequest(server(), strangerApp, 'GET', '/fhir/Observation?_count=2')).status).toBe(200);
});

/** A browser whose sign-in comes back to the history page by default. */
function browser(headers: Record<string, string> = {}) {
  const client = pageBrowser(server, headers);
  return { ...client, signIn: (patient: string, returnTo = '/patient/history') => client.signIn(patient, returnTo) };
}

const decode = (html: string) =>
  html.replace(/<[^>]+>/g, '').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').trim();

/** The rows of the page's table, as the text of their cells. */
function rowsOf(html: string): string[][] {
  const body = /<tbody[^>]*>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => decode(cell[1]!)));
}
/** Rows without their date (the first cell). */
const withoutWhen = (rows: string[][]) => rows.map((row) => row.slice(1));
/** The options of a select of the filter form. */
const optionsOf = (html: string, name: string) =>
  [...(new RegExp(`<select class="fr-select" id="${name}" name="${name}"[^>]*>([\\s\\S]*?)</select>`).exec(html)?.[1] ?? '').matchAll(/<option value="([^"]*)"[^>]*>([^<]*)<\/option>/g)].map((m) => [m[1], decode(m[2]!)]);
const hrefOf = (html: string, label: string) => {
  const match = new RegExp(`<a [^>]*href="([^"]+)"[^>]*>${label}</a>`).exec(html);
  return match ? match[1]!.replace(/&amp;/g, '&') : null;
};

/** The CSV file: its records (RFC 4180, with quoted fields) once the byte order mark is checked and removed. */
function parseCsv(text: string, separator: string): string[][] {
  expect(text.startsWith('\uFEFF')).toBe(true);
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  const body = text.slice(1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === separator) record.push(cell), (cell = '');
    else if (c === '\r' && body[i + 1] === '\n') record.push(cell), records.push(record), (record = []), (cell = ''), i++;
    else if (c === '\n') throw new Error('a bare LF ends a record');
    else cell += c;
  }
  expect(cell).toBe('');
  expect(record).toEqual([]);
  return records;
}

// Newest first: the child's search by the tricky app, then the parent's write, read and search
// today, then the two past entries.
const todayRows = [
  [TRICKY_NAME, 'Léo Martin', 'Vaccinations (recherche)', '2'],
  ['TensioSuivi', 'Vous', 'Mesures et résultats (ajout)', '1'],
  ['TensioSuivi', 'Vous', 'Mesures et résultats (lecture)', '1'],
  ['TensioSuivi', 'Vous', 'Vaccinations (recherche)', '2'],
];
const fortyDaysAgo = ['TensioSuivi', 'Vous', 'Antécédents et problèmes de santé (recherche)', '3'];
const fourHundredDaysAgo = ['TensioSuivi', 'Vous', 'Allergies (lecture)', '1'];

describe('the access history page', () => {
  let parent: ReturnType<typeof browser>;
  beforeAll(async () => {
    parent = browser();
    await parent.signIn(PARENT);
  });

  it('sends a visitor without a session to sign in, and back to the same filters', async () => {
    const visitor = browser();
    const query = `?app=${carnet.appId}&from=2026-01-01`;
    const page = await visitor.get(`/patient/history${query}`);
    expect(page.status).toBe(303);
    expect(page.location).toBe(`/patient/sign-in?return_to=${encodeURIComponent(`/patient/history${query}`)}`);
    expect(page.html).not.toContain('TensioSuivi');
    // The CSV link followed without a session comes back to the page (a download would leave the person on the sign-in page).
    const csv = await visitor.get(`/patient/history.csv${query}`);
    expect(csv.status).toBe(303);
    expect(csv.location).toBe(page.location);
    expect(csv.headers.get('content-disposition')).toBeNull();
    // A session that ended is no session.
    const forged = browser({ cookie: `mes_patient=${'A'.repeat(43)}` });
    expect((await forged.get('/patient/history')).status).toBe(303);
    expect((await forged.get('/patient/history.csv')).status).toBe(303);

    await visitor.signIn(PARENT, `/patient/history${query}`);
    const after = await visitor.get(`/patient/history${query}`);
    expect(after.status).toBe(200);
    expect(withoutWhen(rowsOf(after.html))).toEqual([todayRows[0]]);
  });

  it('shows one row per access, newest first: when, which app, for whom, what, how many', async () => {
    const page = await parent.get('/patient/history');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    expect(page.html).toContain('<html lang="fr">');
    expect(page.html).toContain('<a class="fr-nav__link" href="/patient/history" aria-current="page">Historique des accès</a>');
    expect(page.html.match(/<h1[ >]/g)).toHaveLength(1);
    expect(page.html).toContain('<caption>Accès à vos données et à celles de vos enfants, du plus récent au plus ancien</caption>');
    expect(page.html).toContain(['Quand', 'Application', 'Pour qui', 'Quoi', 'Combien'].map((name) => `<th scope="col" role="columnheader">${name}</th>`).join(''));
    expect(page.html).toContain('<td role="cell" data-label="Pour qui\u00a0:">Léo Martin</td>');
    expect(page.html).not.toContain('<script');

    const rows = rowsOf(page.html);
    expect(withoutWhen(rows)).toEqual([...todayRows, fortyDaysAgo, fourHundredDaysAgo]);
    // When: date and time in Paris, with the instant for machines.
    expect(rows[0]![0]).toMatch(/^\d{1,2} \S+ \d{4} à \d{2}:\d{2}$/);
    const instants = [...page.html.matchAll(/<time datetime="([^"]+)">/g)].map((m) => m[1]!);
    expect(instants).toHaveLength(6);
    expect(instants).toEqual([...instants].sort().reverse());
    // Escaped, never markup.
    expect(page.html).toContain('=Carnet &quot;Vaccins&quot;; famille, enfants');

    // The filters: the apps of this family's history only, the people the parent acts for.
    expect(optionsOf(page.html, 'app')).toEqual([
      ['', 'Toutes les applications'],
      ...[[carnet.appId, TRICKY_NAME], [tensio.appId, 'TensioSuivi']].sort((a, b) => (a[1]! < b[1]! ? -1 : 1)),
    ]);
    expect(optionsOf(page.html, 'for')).toEqual([['', 'Vous et vos enfants'], [PARENT, 'Vous'], [CHILD, 'Léo Martin']]);
    expect(page.html).toMatch(/<label class="fr-label" for="from">Du<\/label>\s*<input class="fr-input" type="date" id="from" name="from" value="">/);
    expect(page.html).toMatch(/<label class="fr-label" for="to">Au \(inclus\)<\/label>\s*<input class="fr-input" type="date" id="to" name="to" value="">/);
    expect(page.html).toContain('<button class="fr-tag" name="period" value="30d">30 derniers jours</button>');
    expect(hrefOf(page.html, 'Télécharger \\(CSV\\)')).toBe('/patient/history.csv');
    // Six rows: no link to older ones.
    expect(hrefOf(page.html, 'Plus anciens')).toBeNull();
  });

  it('filters by app, and by person for a guardian', async () => {
    const byCarnet = await parent.get(`/patient/history?app=${carnet.appId}`);
    expect(withoutWhen(rowsOf(byCarnet.html))).toEqual([todayRows[0]]);
    expect(byCarnet.html).toContain(`<option value="${carnet.appId}" selected>`);
    expect(hrefOf(byCarnet.html, 'Télécharger \\(CSV\\)')).toBe(`/patient/history.csv?app=${carnet.appId}`);

    const byTensio = await parent.get(`/patient/history?app=${tensio.appId}&from=&to=`);
    expect(withoutWhen(rowsOf(byTensio.html))).toEqual([...todayRows.slice(1), fortyDaysAgo, fourHundredDaysAgo]);

    const child = await parent.get(`/patient/history?for=${CHILD}`);
    expect(withoutWhen(rowsOf(child.html))).toEqual([todayRows[0]]);
    const self = await parent.get(`/patient/history?for=${PARENT}&app=${carnet.appId}`);
    expect(rowsOf(self.html)).toEqual([]);
    expect(self.html).toContain('Aucun accès ne correspond à ces filtres.');
    expect(self.html).not.toContain('Télécharger (CSV)');

    const unknownApp = await parent.get('/patient/history?app=00000000-0000-4000-8000-000000000000');
    expect(unknownApp.status).toBe(200);
    expect(rowsOf(unknownApp.html)).toEqual([]);
  });

  it('filters by period: the dates chosen, or a quick period that fills them in', async () => {
    const today = parisDay(new Date());
    const thirty = await parent.get('/patient/history?period=30d&from=1999-01-01&to=garbage');
    expect(thirty.status).toBe(200);
    expect(withoutWhen(rowsOf(thirty.html))).toEqual(todayRows);
    // The quick period shows as the days it stands for; the links carry those days.
    const from30 = parisDay(new Date(Date.now() - 29 * DAY));
    expect(thirty.html).toContain(`name="from" value="${from30}"`);
    expect(thirty.html).toContain(`name="to" value="${today}"`);
    expect(hrefOf(thirty.html, 'Télécharger \\(CSV\\)')).toBe(`/patient/history.csv?from=${from30}&to=${today}`);

    const seven = await parent.get('/patient/history?period=7d');
    expect(withoutWhen(rowsOf(seven.html))).toEqual(todayRows);
    const year = await parent.get('/patient/history?period=12m');
    expect(withoutWhen(rowsOf(year.html))).toEqual([...todayRows, fortyDaysAgo]);

    // Dates in Paris time, both days included.
    const around40 = await parent.get(`/patient/history?from=${parisDay(new Date(Date.now() - 41 * DAY))}&to=${parisDay(new Date(Date.now() - 40 * DAY))}`);
    expect(withoutWhen(rowsOf(around40.html))).toEqual([fortyDaysAgo]);
    const untilYesterday = await parent.get(`/patient/history?to=${parisDay(new Date(Date.now() - DAY))}`);
    expect(withoutWhen(rowsOf(untilYesterday.html))).toEqual([fortyDaysAgo, fourHundredDaysAgo]);
    const fromToday = await parent.get(`/patient/history?from=${today}&to=${today}`);
    expect(withoutWhen(rowsOf(fromToday.html))).toEqual(todayRows);
    const tomorrow = parisDay(new Date(Date.now() + DAY));
    expect(rowsOf((await parent.get(`/patient/history?from=${tomorrow}`)).html)).toEqual([]);
  });

  it('says what to correct when a filter is not valid (400), and shows nothing else', async () => {
    const cases: [string, string][] = [
      ['?from=2026-02-30', 'La date de début n’est pas une date'],
      ['?from=01/03/2026', 'La date de début n’est pas une date'],
      ['?to=demain', 'La date de fin n’est pas une date'],
      ['?from=2026-03-10&to=2026-03-01', 'La date de début est après la date de fin'],
      ['?app=not-an-app-id', 'Choisissez l’application dans la liste.'],
      [`?for=${STRANGER}`, 'Choisissez la personne dans la liste.'],
      ['?cursor=bm90LWEtY3Vyc29y', 'Ce lien vers des accès plus anciens n’est plus valide'],
      [`?cursor=${Buffer.from(JSON.stringify([new Date().toISOString(), PARENT, 1.5])).toString('base64url')}`, 'Ce lien vers des accès plus anciens n’est plus valide'],
    ];
    for (const [query, message] of cases) {
      const page = await parent.get(`/patient/history${query}`);
      expect(page.status, query).toBe(400);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.html).toContain('<div class="fr-alert fr-alert--error" role="alert" id="filter-errors"><h2 class="fr-alert__title">Corrigez les filtres</h2>');
      expect(page.html, query).toContain(message);
      // The field to correct is marked (a stale cursor is no field: the page links back to the newest).
      if (!query.startsWith('?cursor')) expect(page.html).toContain('aria-invalid="true"');
      expect(page.html).not.toContain('<table');
      expect(page.html).not.toContain('Paul Durand');
      // The CSV answers the same page instead of a file.
      const csv = await parent.get(`/patient/history.csv${query.replace(/^\?cursor=.*/, '?from=2026-13-01')}`);
      expect(csv.status).toBe(400);
      expect(csv.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(csv.headers.get('content-disposition')).toBeNull();
    }
    // What was typed stays in the field, to be corrected.
    expect((await parent.get('/patient/history?from=01/03/2026')).html).toContain('name="from" value="01/03/2026" aria-invalid="true"');
    // Values the form never sends are refused by the spec itself.
    expect((await parent.get('/patient/history?period=99d')).status).toBe(400);
    expect((await parent.get('/patient/history?sort=asc')).status).toBe(400);
    expect((await parent.get(`/patient/history?app=${'a'.repeat(65)}`)).status).toBe(400);
  });

  it('is in English with the language cookie or the browser’s Accept-Language', async () => {
    for (const headers of [{ cookie: 'mes_lang=en' }, { 'accept-language': 'en-GB,en;q=0.9' }] as Record<string, string>[]) {
      const english = browser(headers);
      await english.signIn(PARENT);
      const page = await english.get('/patient/history');
      expect(page.html).toContain('<html lang="en">');
      expect(page.headers.get('content-language')).toBe('en');
      expect(page.html).toContain('<h1>Access history</h1>');
      expect(page.html).toContain('<caption>Accesses to your data and your children’s, newest first</caption>');
      expect(withoutWhen(rowsOf(page.html)).slice(0, 2)).toEqual([
        [TRICKY_NAME, 'Léo Martin', 'Vaccinations (search)', '2'],
        ['TensioSuivi', 'You', 'Measurements and results (addition)', '1'],
      ]);
      expect(rowsOf(page.html)[0]![0]).toMatch(/^\d{1,2} \S+ \d{4} at \d{2}:\d{2}$/);
      expect(optionsOf(page.html, 'app')[0]).toEqual(['', 'All apps']);
      expect(page.html).toContain('Download (CSV)');
      const bad = await english.get('/patient/history?from=2026-03-10&to=2026-03-01');
      expect(bad.status).toBe(400);
      expect(bad.html).toContain('The start date is after the end date');
    }
  });
});

describe('pages of the history', () => {
  let bulk: ReturnType<typeof browser>;
  beforeAll(async () => {
    // More entries than one file holds, one a second back from now: resource_count n is the
    // n-th newest. Written in one statement, as volume; the chain does not matter here.
    await server().app.db.query(
      `INSERT INTO access_history (patient_id, seq, occurred_at, app_id, client_id, grant_id, actor_id, resource_type, interaction, resource_count, prev_hash, hash)
       SELECT $1, g, date_trunc('milliseconds', now()) - make_interval(secs => g), $2::uuid, $3, $4::uuid, $1, 'Observation', 'search', g, '0', '0'
       FROM generate_series(1, $5::integer) g`,
      [BULK, tensio.appId, tensio.clientId, tensio.grantId, EXPORT_LIMIT + 5],
    );
    bulk = browser();
    await bulk.signIn(BULK);
  });

  it('shows 50 entries a page, and goes on to older ones with a cursor, keeping the filters', async () => {
    const first = await bulk.get(`/patient/history?app=${tensio.appId}`);
    expect(rowsOf(first.html).map((row) => row[4])).toEqual(Array.from({ length: PAGE_SIZE }, (_, i) => String(i + 1)));
    expect(first.html).toContain('<caption>Accès à vos données, du plus récent au plus ancien</caption>');
    // Not a guardian: no person to choose.
    expect(first.html).not.toContain('name="for"');
    const older = hrefOf(first.html, 'Plus anciens')!;
    expect(older).toMatch(new RegExp(`^/patient/history\\?app=${tensio.appId}&cursor=[A-Za-z0-9_-]+$`));
    expect(hrefOf(first.html, 'Revenir aux plus récents')).toBeNull();

    const second = await bulk.get(older);
    expect(second.status).toBe(200);
    expect(rowsOf(second.html).map((row) => row[4])).toEqual(Array.from({ length: PAGE_SIZE }, (_, i) => String(PAGE_SIZE + i + 1)));
    expect(hrefOf(second.html, 'Revenir aux plus récents')).toBe(`/patient/history?app=${tensio.appId}`);
    const third = await bulk.get(hrefOf(second.html, 'Plus anciens')!);
    expect(rowsOf(third.html)[0]![4]).toBe(String(2 * PAGE_SIZE + 1));

    // The last page has no link to older ones.
    const thirdOldest = await server().app.db.query<{ occurred_at: Date }>(`SELECT occurred_at FROM access_history WHERE patient_id = $1 AND seq = $2`, [BULK, EXPORT_LIMIT + 3]);
    const cursor = Buffer.from(JSON.stringify([new Date(thirdOldest[0]!.occurred_at).toISOString(), BULK, EXPORT_LIMIT + 3])).toString('base64url');
    const last = await bulk.get(`/patient/history?cursor=${cursor}`);
    // Counts are written the French way ("10 004", with a narrow no-break space).
    expect(rowsOf(last.html).map((row) => row[4]!.replace(/\D/g, ''))).toEqual([String(EXPORT_LIMIT + 4), String(EXPORT_LIMIT + 5)]);
    expect(hrefOf(last.html, 'Plus anciens')).toBeNull();
    expect(hrefOf(last.html, 'Revenir aux plus récents')).toBe('/patient/history');
  });

  it('writes every entry of the filters into the CSV file, up to the cap, and says when it was cut', async () => {
    const csv = await bulk.get('/patient/history.csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('x-export-truncated')).toBe('true');
    const records = parseCsv(csv.html, ';');
    expect(records).toHaveLength(EXPORT_LIMIT + 1);
    expect(records.slice(1).map((record) => record[9])).toEqual(Array.from({ length: EXPORT_LIMIT }, (_, i) => String(i + 1)));

    // Under the cap (a patient with a few entries): everything, and no mark.
    const few = browser();
    await few.signIn(PARENT);
    const page = await few.get('/patient/history');
    const small = await few.get('/patient/history.csv');
    expect(small.headers.get('x-export-truncated')).toBeNull();
    expect(parseCsv(small.html, ';')).toHaveLength(rowsOf(page.html).length + 1);
    expect(rowsOf(page.html).length).toBeGreaterThan(0);
  });
});

describe('the CSV export', () => {
  let parent: ReturnType<typeof browser>;
  beforeAll(async () => {
    parent = browser();
    await parent.signIn(PARENT);
  });

  it('is a UTF-8 file with a byte order mark, French headers, semicolons, RFC 4180 quoting and defused formulas', async () => {
    const csv = await parent.get('/patient/history.csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="historique-des-acces-${parisDay(new Date())}.csv"`);
    expect(csv.headers.get('cache-control')).toBe('no-store');
    expect(csv.headers.get('x-export-truncated')).toBeNull();
    expect([...csv.bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csv.html.endsWith('\r\n')).toBe(true);

    const [header, ...rows] = parseCsv(csv.html, ';');
    expect(header).toEqual([
      'Date et heure (UTC, ISO 8601)',
      'Date et heure (heure de Paris)',
      'Application',
      'Identifiant de l’application',
      'Pour qui',
      'Identifiant du patient',
      'Données',
      'Type de ressource FHIR',
      'Action',
      'Nombre de ressources',
    ]);
    expect(rows.map((row) => [row[2], row[4], row[6], row[8], row[9]])).toEqual([
      [`'${TRICKY_NAME}`, 'Léo Martin', 'Vaccinations', 'recherche', '2'],
      ['TensioSuivi', 'Vous', 'Mesures et résultats', 'ajout', '1'],
      ['TensioSuivi', 'Vous', 'Mesures et résultats', 'lecture', '1'],
      ['TensioSuivi', 'Vous', 'Vaccinations', 'recherche', '2'],
      ['TensioSuivi', 'Vous', 'Antécédents et problèmes de santé', 'recherche', '3'],
      ['TensioSuivi', 'Vous', 'Allergies', 'lecture', '1'],
    ]);
    expect(rows.map((row) => [row[3], row[5], row[7]])[0]).toEqual([carnet.appId, CHILD, 'Immunization']);
    // The tricky name: prefixed with a quote, then quoted with its quotes doubled.
    expect(csv.html).toContain(`;"'=Carnet ""Vaccins""; famille, enfants";`);
    // Both times of an entry are the same instant.
    for (const row of rows) {
      expect(row[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(row[1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      const paris = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'medium' }).format(new Date(row[0]!));
      expect(row[1]).toBe(paris);
    }
    // The same file as the page's rows, newest first.
    const page = await parent.get('/patient/history');
    expect(rows.map((row) => row[0])).toEqual([...page.html.matchAll(/<time datetime="([^"]+)">/g)].map((m) => m[1]));
  });

  it('takes the same filters as the page', async () => {
    const byApp = parseCsv((await parent.get(`/patient/history.csv?app=${carnet.appId}`)).html, ';');
    expect(byApp.slice(1).map((row) => row[3])).toEqual([carnet.appId]);
    const byPerson = parseCsv((await parent.get(`/patient/history.csv?for=${PARENT}`)).html, ';');
    expect(byPerson.slice(1).map((row) => row[5])).toEqual(Array(5).fill(PARENT));
    const byPeriod = parseCsv((await parent.get('/patient/history.csv?period=12m')).html, ';');
    expect(byPeriod.slice(1).map((row) => row[6])).toEqual(['Vaccinations', 'Mesures et résultats', 'Mesures et résultats', 'Vaccinations', 'Antécédents et problèmes de santé']);
    const nothing = parseCsv((await parent.get(`/patient/history.csv?from=${parisDay(new Date(Date.now() + DAY))}`)).html, ';');
    expect(nothing).toHaveLength(1);
  });

  it('is in English, comma-separated, for an English page', async () => {
    const english = browser({ cookie: 'mes_lang=en' });
    await english.signIn(PARENT);
    const csv = await english.get(`/patient/history.csv?for=${CHILD}`);
    expect(csv.headers.get('content-language')).toBe('en');
    const [header, ...rows] = parseCsv(csv.html, ',');
    expect(header).toEqual(['Date and time (UTC, ISO 8601)', 'Date and time (Paris time)', 'App', 'App id', 'For whom', 'Patient id', 'Data', 'FHIR resource type', 'Action', 'Number of resources']);
    expect(rows.map((row) => [row[2], row[4], row[6], row[8], row[9]])).toEqual([[`'${TRICKY_NAME}`, 'Léo Martin', 'Vaccinations', 'search', '2']]);
  });

  it('defuses every cell a spreadsheet would run, and quotes only what needs it', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      expect(csvCell(`${start}1+1`).replace(/^"|"$/g, '')).toBe(`'${start}1+1`);
    }
    expect(csvCell('=HYPERLINK("https://evil.example")')).toBe(`"'=HYPERLINK(""https://evil.example"")"`);
    expect(csvCell('a;b')).toBe('"a;b"');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvCell('Léo Martin')).toBe('Léo Martin');
    expect(csvCell('2026-03-01T10:00:00.000Z')).toBe('2026-03-01T10:00:00.000Z');
  });
});

describe('another person', () => {
  it('never sees the family’s entries or apps, on the page or in the file, whatever the filters', async () => {
    const stranger = browser();
    await stranger.signIn(STRANGER);
    const page = await stranger.get('/patient/history');
    expect(withoutWhen(rowsOf(page.html))).toEqual([['TensioSuivi', 'Vous', 'Mesures et résultats (recherche)', '2']]);
    expect(optionsOf(page.html, 'app')).toEqual([['', 'Toutes les applications'], [strangerApp.appId, 'TensioSuivi']]);
    expect(page.html).not.toContain('Carnet');
    expect(page.html).not.toContain('Léo');
    expect(page.html).toContain('<caption>Accès à vos données, du plus récent au plus ancien</caption>');

    // Naming the family's app or the child changes nothing: an empty list, or a page to correct.
    expect(rowsOf((await stranger.get(`/patient/history?app=${tensio.appId}`)).html)).toEqual([]);
    expect(rowsOf((await stranger.get(`/patient/history?app=${carnet.appId}`)).html)).toEqual([]);
    for (const person of [CHILD, PARENT]) {
      const other = await stranger.get(`/patient/history?for=${person}`);
      expect(other.status).toBe(400);
      expect(other.html).not.toContain('<table');
      expect((await stranger.get(`/patient/history.csv?for=${person}`)).status).toBe(400);
    }
    // A cursor that names the child does not open the child's entries either.
    const cursor = encodeURIComponent(Buffer.from(JSON.stringify([new Date().toISOString(), CHILD, 999])).toString('base64url'));
    expect(rowsOf((await stranger.get(`/patient/history?cursor=${cursor}`)).html).flat()).not.toContain('Léo Martin');

    const csv = parseCsv((await stranger.get('/patient/history.csv')).html, ';');
    expect(csv.slice(1).map((row) => row[5])).toEqual([STRANGER]);
    expect(csv.flat().join(' ')).not.toMatch(/Carnet|Léo|history-page-parent|history-page-child/);
  });

  it('sees nothing when nothing was accessed', async () => {
    const nobody = browser();
    await nobody.signIn('history-page-nobody');
    const page = await nobody.get('/patient/history');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Aucune application n’a encore accédé à ces données.');
    expect(optionsOf(page.html, 'app')).toEqual([['', 'Toutes les applications']]);
    expect(parseCsv((await nobody.get('/patient/history.csv')).html, ';')).toHaveLength(1);
  });
});
