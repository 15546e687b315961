// The certification journey from the command line alone, against the sandbox as `npm start` seeds
// it: the demo publisher signs in, creates an app, exercises it in the sandbox, runs the checks and
// submits; two seeded reviewers approve (the one linked to the publisher may not); the app is in
// the catalogue with a certificate `mes certs verify` accepts; a reviewer suspends it and the
// app's token stops working at once; the decision log verifies.
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startTestServer, type TestServer } from '@mes/catalog-api';
import { seedSandbox } from '@mes/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRecord } from '../../../catalog-api/test/fhir-helpers.js';
import type { ErrorJson } from '../../src/base-command.js';
import { mes, tempConfigDir } from '../helpers/cli.js';

let server: TestServer;
let config: Awaited<ReturnType<typeof tempConfigDir>>;
const patient = 'journey-patient';

beforeAll(async () => {
  // The sandbox as npm start runs it on a developer's machine, offline: the app's documents on
  // its (invented) domain cannot be fetched, a warning in a sandbox.
  server = await startTestServer({ outboundAllowPrivateNetworks: true });
  config = await tempConfigDir();
  await seedSandbox(server.app.db, config.dir);
  await seedRecord(server, patient);
  process.env.MES_CONFIG_DIR = config.dir;
  process.env.MES_API_URL = server.url;
  delete process.env.MES_API_KEY;
  delete process.env.MES_TOKEN;
});

afterAll(async () => {
  await server?.close();
  await config?.remove();
});

async function json<T>(args: string[]): Promise<T> {
  const outcome = await mes<T>([...args, '--json']);
  expect(outcome.exitCode, `${args.join(' ')}: ${outcome.stdout}`).toBe(0);
  return outcome.result as T;
}

const errorCode = (stdout: string) => (JSON.parse(stdout) as ErrorJson).error.code;

describe('certification, from the CLI alone', () => {
  it('goes from a new app to a certified, then suspended, app', async () => {
    // The publisher.
    await json(['login', '--sandbox-user', 'demo-publisher']);
    const appFile = join(dirname(config.dir), 'journey-app.json');
    await writeFile(
      appFile,
      JSON.stringify({
        name: 'Tensio Parcours',
        category: 'suivi-maladie-chronique',
        shortDescription: { fr: 'Suivez votre tension artérielle.' },
        longDescription: { fr: 'Relève les mesures de votre tensiomètre connecté.' },
        websiteUrl: 'https://tensio.demo-sante.example.fr',
        redirectUris: ['https://tensio.demo-sante.example.fr/oauth/callback'],
        scopes: [
          { scope: 'patient/Observation.rs', justification: 'Lire vos mesures de tension pour tracer leur évolution.', purpose: 'suivi' },
          { scope: 'offline_access', justification: 'Actualiser vos mesures sans vous reconnecter chaque jour.' },
        ],
        privacyPolicyUrl: 'https://tensio.demo-sante.example.fr/confidentialite',
        termsUrl: 'https://tensio.demo-sante.example.fr/cgu',
        supportContact: { email: 'support@demo-sante.example.fr' },
        compliance: {
          applicationType: 'web',
          hosting: { provider: 'Hébergeur Santé SAS', certificateReference: 'HDS-2025-0042' },
          dataProtectionOfficer: { name: 'Claire Martin', email: 'dpo@demo-sante.example.fr' },
          securityContact: { email: 'security@demo-sante.example.fr' },
          retentionPeriod: 'P2Y',
        },
      }),
    );
    const app = await json<{ id: string }>(['apps', 'create', '--file', appFile]);
    await json(['sandbox', 'exercise', '--app', app.id, '--patient', patient]);
    const checks = await json<{ counts: { fail: number }; results: { id: string; status: string }[] }>(['apps', 'checks', app.id]);
    expect(checks.counts.fail).toBe(0);
    expect(checks.results.filter((result) => result.id.startsWith('sandbox.') && result.status !== 'pass')).toEqual([]);
    const submission = await json<{ id: string; state: string }>(['apps', 'submit', app.id, '--version', '1.0.0']);
    expect(submission.state).toBe('submitted');

    // The reviewers: the one linked to the demo publisher may not; two others approve.
    const verdicts = join(dirname(config.dir), 'journey-verdicts.json');
    await json(['login', '--sandbox-user', 'reviewer-linked']);
    await writeFile(verdicts, JSON.stringify(await json(['review', 'criteria', '--template'])));
    const linked = await mes(['review', 'approve', submission.id, '--criteria', verdicts, '--note', 'Conforme.', '--json']);
    expect(errorCode(linked.stdout)).toBe('reviewer_conflict');
    await json(['login', '--sandbox-user', 'reviewer-a']);
    const queue = await json<{ items: { id: string }[] }>(['review', 'queue']);
    expect(queue.items.map((item) => item.id)).toContain(submission.id);
    const first = await json<{ certificate: unknown }>(['review', 'approve', submission.id, '--criteria', verdicts, '--note', '"Conforme aux critères."']);
    expect(first.certificate).toBeNull();
    await json(['login', '--sandbox-user', 'reviewer-b']);
    const second = await json<{ certificate: { id: string; state: string } }>(['review', 'approve', submission.id, '--criteria', verdicts, '--note', 'Conforme.']);
    expect(second.certificate.state).toBe('certified');

    // In the catalogue, with a certificate that verifies.
    expect((await json<{ id: string }>(['catalog', 'show', app.id])).id).toBe(app.id);
    expect(await json(['certs', 'verify', second.certificate.id])).toMatchObject({ valid: true });

    // The app's token works, then stops at once when a reviewer suspends the certificate.
    await json(['login', '--sandbox-user', 'demo-publisher']);
    await json(['sandbox', 'token', '--app', app.id, '--patient', patient, '--scope', 'patient/Observation.rs']);
    expect((await mes(['api', 'searchObservation', '--json'])).exitCode).toBe(0);
    await json(['login', '--sandbox-user', 'reviewer-a']);
    await json(['certs', 'suspend', second.certificate.id, '--reason', '"Faille signalée, en cours d’analyse."']);
    const cut = await mes(['api', 'searchObservation', '--json']);
    expect(cut.exitCode).toBe(1);
    expect(errorCode(cut.stdout)).toBe('invalid_token');
    expect((await mes(['catalog', 'show', app.id, '--json'])).exitCode).toBe(1);

    // Every decision is in the public log, which verifies.
    expect(await json(['log', 'verify'])).toMatchObject({ valid: true });
  }, 120_000);
});
