import { beforeAll, describe, expect, it } from 'vitest';
import { setCertificationStatus } from '../src/modules/catalog/repository.js';
import { appInput, call, expectProblem, registerPublisher, useServer } from './helpers.js';

const server = useServer();

describe('public catalogue', () => {
  let key: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ({ key } = await registerPublisher(server(), 'Éditeur du catalogue'));
    const apps = [
      { name: 'Zèbre Santé', category: 'prevention', certified: true, short: 'Dépistage et prévention' },
      { name: 'Équilibre', category: 'bien-etre', certified: true, short: 'Méditation guidée' },
      { name: 'Asthme Suivi', category: 'suivi-maladie-chronique', certified: true, short: 'Suivi de l’asthme au quotidien' },
      { name: 'Brouillon', category: 'prevention', certified: false, short: 'Pas encore certifiée' },
      { name: 'Suspendue', category: 'prevention', certified: false, short: 'Certification suspendue' },
    ] as const;
    for (const app of apps) {
      const created = await call(server(), 'POST', '/apps', {
        key,
        body: appInput({ name: app.name, category: app.category, shortDescription: { fr: app.short } }),
      });
      ids[app.name] = created.body.id;
      if (app.certified) await setCertificationStatus(server().app.db, created.body.id, 'certified');
    }
    await setCertificationStatus(server().app.db, ids['Suspendue']!, 'suspended');
  });

  it('lists only certified apps, sorted by name ignoring accents and case', async () => {
    const result = await call(server(), 'GET', '/catalog/apps');
    expect(result.status).toBe(200);
    expect(result.body.items.map((app: { name: string }) => app.name)).toEqual(['Asthme Suivi', 'Équilibre', 'Zèbre Santé']);
    expect(result.body.nextCursor).toBeNull();
    const first = result.body.items[0];
    expect(first).toMatchObject({ certificationStatus: 'certified', publisher: { name: 'Éditeur du catalogue' } });
    expect(Date.parse(first.certifiedAt)).not.toBeNaN();
    // The catalogue shape leaves out what is private to the publisher.
    expect(first).not.toHaveProperty('redirectUris');
    expect(first).not.toHaveProperty('publisherId');
  });

  it('searches names and descriptions without regard to accents or case', async () => {
    const names = async (q: string) =>
      (await call(server(), 'GET', `/catalog/apps?q=${encodeURIComponent(q)}`)).body.items.map((app: { name: string }) => app.name);
    expect(await names('equilibre')).toEqual(['Équilibre']);
    expect(await names('MÉDITATION')).toEqual(['Équilibre']);
    expect(await names('zebre')).toEqual(['Zèbre Santé']);
    expect(await names('brouillon')).toEqual([]);
    // LIKE wildcards in the query are matched literally.
    expect(await names('%')).toEqual([]);
    expect(await names('_')).toEqual([]);
  });

  it('filters by category', async () => {
    const result = await call(server(), 'GET', '/catalog/apps?category=prevention');
    expect(result.body.items.map((app: { name: string }) => app.name)).toEqual(['Zèbre Santé']);
    expectProblem(await call(server(), 'GET', '/catalog/apps?category=casino'), 400, 'validation_failed');
  });

  it('pages with a cursor, without repeating or skipping', async () => {
    const first = await call(server(), 'GET', '/catalog/apps?limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call(server(), 'GET', `/catalog/apps?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((app: { name: string }) => app.name)).toEqual(['Zèbre Santé']);
    expect(second.body.nextCursor).toBeNull();
    expectProblem(await call(server(), 'GET', '/catalog/apps?cursor=WyJhIiwibm90LWEtdXVpZCJd'), 400, 'invalid_cursor');
  });

  it('shows a certified app and hides the others', async () => {
    const shown = await call(server(), 'GET', `/catalog/apps/${ids['Équilibre']}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ name: 'Équilibre', category: 'bien-etre', scopes: [{ scope: 'patient/Observation.crs?category=vital-signs' }] });
    expectProblem(await call(server(), 'GET', `/catalog/apps/${ids['Brouillon']}`), 404, 'not_found');
    expectProblem(await call(server(), 'GET', `/catalog/apps/${ids['Suspendue']}`), 404, 'not_found');
  });

  it('refuses to delete an app that is certified or suspended', async () => {
    for (const name of ['Zèbre Santé', 'Suspendue']) {
      expectProblem(await call(server(), 'DELETE', `/apps/${ids[name]}`, { key }), 409, 'app_not_deletable');
    }
    expect((await call(server(), 'GET', `/catalog/apps/${ids['Zèbre Santé']}`)).status).toBe(200);
  });
});
