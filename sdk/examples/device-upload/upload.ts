// A connected scale uploading its weighings to the patient's record. The scale keeps its last
// readings and sends all of them each time it connects: each upload carries an Idempotency-Key
// made from the reading's own id, so a reading sent before (by a run that crashed before it
// could forget it, or cut off mid-answer) is answered again by the server, never recorded twice.
//
// It is authorized once and keeps its tokens (offline access: a refresh token) in a file.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPublisherClient, type Observation } from '@mes/sdk/publisher';
import { ensureSandboxApp, publicClientOf, requiredEnv } from '../setup/sandbox-app.js';
import { fileStorage } from '../storage/file-storage.js';

const baseUrl = process.env.MES_API_URL ?? 'http://localhost:4010';
const readingsFile = process.env.READINGS_FILE ?? 'readings.json';
const stateDir = process.env.STATE_DIR ?? '.state';
/** The scale's serial number: with the reading's id, it names each upload. */
const deviceId = process.env.DEVICE_ID ?? 'scale-0001';
// Least privilege: create vital signs, nothing else; offline_access to keep uploading for months.
const scope = ['patient/Observation.c?category=vital-signs', 'offline_access'] as const;
// The companion app's redirect URI: where a real pairing comes back (see authorizeOnce).
const redirectUri = 'https://balance-connectee.example.fr/oauth/callback';

interface Reading {
  id: string;
  takenAt: string;
  kg: number;
}

async function readReadings(file: string): Promise<Reading[]> {
  const readings = JSON.parse(await readFile(file, 'utf8')) as Reading[];
  for (const reading of readings) {
    // The id goes into the Idempotency-Key (visible ASCII): keep it to a safe alphabet.
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(reading.id)) throw new Error(`reading id ${JSON.stringify(reading.id)}: letters, digits, . _ - only`);
  }
  return readings;
}

function weightObservation(reading: Reading): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Poids' }] },
    effectiveDateTime: reading.takenAt,
    valueQuantity: { value: reading.kg, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    device: { display: `Balance connectée ${deviceId}` },
    // No subject: the platform files it for the token's patient (and refuses any other).
  };
}

/** Sandbox set-up, with the publisher's key: the scale's app and its public client. */
async function sandboxClientId(): Promise<string> {
  const publisher = createPublisherClient({ baseUrl, apiKey: requiredEnv('MES_API_KEY', 'the publisher API key that `npm start` prints (mes_pk_…).') });
  const app = await ensureSandboxApp(publisher, {
    name: 'Balance connectée (exemple)',
    shortDescription: { fr: 'Votre poids, versé dans votre espace santé.' },
    longDescription: { fr: 'Exemple du SDK : une balance qui dépose ses pesées, sans jamais les déposer deux fois.' },
    category: 'bien-etre',
    websiteUrl: 'https://balance-connectee.example.fr',
    redirectUris: [redirectUri],
    scopes: [
      { scope: 'patient/Observation.c?category=vital-signs', justification: 'Déposer vos pesées dans votre espace santé.', required: true },
      { scope: 'offline_access', justification: 'Déposer les pesées suivantes sans vous redemander votre accord.' },
    ],
    privacyPolicyUrl: 'https://balance-connectee.example.fr/confidentialite',
    termsUrl: 'https://balance-connectee.example.fr/cgu',
    supportContact: { email: 'support@balance-connectee.example.fr' },
  });
  return publicClientOf(publisher, app);
}

const clientId = process.env.MES_CLIENT_ID ?? (await sandboxClientId());
const mes = createPublisherClient({
  baseUrl,
  clientId,
  redirectUri,
  scope,
  storage: fileStorage(join(stateDir, 'tokens.json')),
  // A scale's Wi-Fi is slow and flaky: give each attempt time, and retry a few times.
  timeout: 20_000,
  maxRetries: 4,
});

/**
 * The first time only. A real scale gets its grant through its companion app: the patient signs
 * in and consents there (authorize() and handleCallback() at the redirect URI above), and the
 * pairing hands the session to the scale. The sandbox pre-approves the consent of a synthetic
 * patient instead.
 */
async function authorizeOnce(): Promise<void> {
  const stored = await mes.authorization();
  if (stored) return void console.log(`Authorized for patient ${stored.patient} (stored).`);
  const patient = requiredEnv('MES_PATIENT', 'the sandbox patient the scale is paired with, e.g. sandbox-patient-1 (first run only).');
  const granted = await mes.sandbox.signIn({ patient });
  console.log(`Authorized for patient ${granted.patient}: ${granted.scopes.join(' ')}.`);
}

await authorizeOnce();
const readings = await readReadings(readingsFile);
let added = 0;
let known = 0;
for (const reading of readings) {
  const { data, response } = await mes.fhir
    .create('Observation', weightObservation(reading), {
      // The same reading always gets the same key: the server records it once. Keys are kept a
      // day, for this grant; a scale offline for longer also remembers what was acknowledged.
      idempotencyKey: `${deviceId}-${reading.id}`,
      // Per call: a weighing may wait longer, and be retried more, than the client's default.
      timeout: 30_000,
      maxRetries: 6,
    })
    .withResponse();
  const replayed = response.headers.get('idempotent-replayed') === 'true';
  if (replayed) known += 1;
  else added += 1;
  console.log(`${replayed ? 'already uploaded' : 'uploaded'} ${reading.id} (${reading.kg} kg) → Observation/${data.id}`);
}
console.log(`${added} new, ${known} already uploaded.`);
