import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appBody, parseScopeFlag } from '../src/app-fields.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mes-app-fields-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseScopeFlag', () => {
  it.each([
    ['launch/patient=Ouvrir depuis le dossier.', 'launch/patient', 'Ouvrir depuis le dossier.'],
    ['patient/Observation.rs?category=vital-signs=Lire vos mesures.', 'patient/Observation.rs?category=vital-signs', 'Lire vos mesures.'],
    ['offline_access=Synchronisation', 'offline_access', 'Synchronisation'],
    ['openid=Vous identifier = sans mot de passe', 'openid', 'Vous identifier = sans mot de passe'],
  ])('splits %j', (value, scope, justification) => {
    expect(parseScopeFlag(value)).toEqual({ scope, justification });
  });

  it.each(['launch/patient', '=justification seule', 'launch/patient=', 'sans égal du tout'])('refuses %j', (value) => {
    expect(() => parseScopeFlag(value)).toThrow(/must look like "scope=justification"/);
  });
});

describe('appBody', () => {
  it('overlays the flags on the file, merging nested texts and contacts', async () => {
    const file = join(dir, 'app.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'Depuis le fichier',
        shortDescription: { fr: 'Court', en: 'Short' },
        supportContact: { email: 'a@example.fr', phone: '+33 1 02 03 04 05' },
        redirectUris: ['https://a.example.fr/cb'],
      }),
    );
    expect(
      await appBody({ file, name: 'Depuis les flags', 'short-description': 'Court modifié', 'support-email': 'b@example.fr', 'redirect-uri': ['https://b.example.fr/cb'] }),
    ).toEqual({
      name: 'Depuis les flags',
      shortDescription: { fr: 'Court modifié', en: 'Short' },
      supportContact: { email: 'b@example.fr', phone: '+33 1 02 03 04 05' },
      redirectUris: ['https://b.example.fr/cb'],
    });
  });

  it('gives an empty body when nothing is given', async () => {
    expect(await appBody({})).toEqual({});
  });

  it('refuses files that are missing, not JSON, or not an object', async () => {
    await expect(appBody({ file: join(dir, 'missing.json') })).rejects.toThrow(/^Cannot read/);
    await writeFile(join(dir, 'bad.json'), '{nope');
    await expect(appBody({ file: join(dir, 'bad.json') })).rejects.toThrow(/is not valid JSON/);
    await writeFile(join(dir, 'array.json'), '[]');
    await expect(appBody({ file: join(dir, 'array.json') })).rejects.toThrow(/must contain a JSON object/);
  });
});
