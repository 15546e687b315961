// HTTP handlers of the oauth module, keyed by operationId.
import type { AppConfig } from '../../core/config.js';
import type { SecretBox } from '../../core/secret-box.js';
import { ProblemError } from '../../core/errors.js';
import { publisherOf, type HandlerContext, type HandlerMap, type OperationId } from '../../core/operations.js';
import type { Db } from '../../core/store/db.js';
import { findApp } from '../catalog/index.js';
import * as repo from './client-repository.js';
import { createClient, replaceClientKeys, type ClientDeps } from './clients.js';
import { publishedKeys, rotateSigningKey, SIGNING_ALG } from './signing-keys.js';

type OAuthOperations =
  | 'listClients'
  | 'createClient'
  | 'getClient'
  | 'deleteClient'
  | 'replaceClientKeys'
  | 'getJwks'
  | 'rotateSigningKeys';

export function oauthHandlers(db: Db, config: AppConfig, box: SecretBox, clientDeps: ClientDeps = {}): HandlerMap<OAuthOperations> {
  /** The app of the path, if it is the caller's: another publisher's app is reported as missing. */
  async function ownApp<K extends OperationId>(context: HandlerContext<K> & { params: { appId: string } }): Promise<string> {
    const { publisherId } = publisherOf(context);
    const app = await findApp(db, publisherId, context.params.appId);
    if (!app) throw new ProblemError('not_found', `No app ${context.params.appId}.`);
    return app.id;
  }
  const noClient = (clientId: string) => new ProblemError('not_found', `No client ${clientId}.`);

  return {
    async listClients(context) {
      return { status: 200, body: { items: await repo.listClients(db, await ownApp(context)) } };
    },
    async createClient(context) {
      const appId = await ownApp(context);
      const client = await createClient(db, appId, context.body, clientDeps);
      return { status: 201, body: client, headers: { location: `/apps/${appId}/clients/${client.clientId}` } };
    },
    async getClient(context) {
      const client = await repo.findClient(db, await ownApp(context), context.params.clientId);
      if (!client) throw noClient(context.params.clientId);
      return { status: 200, body: client };
    },
    async deleteClient(context) {
      if (!(await repo.deleteClient(db, await ownApp(context), context.params.clientId))) throw noClient(context.params.clientId);
      return { status: 204 };
    },
    async replaceClientKeys(context) {
      const appId = await ownApp(context);
      return { status: 200, body: await replaceClientKeys(db, appId, context.params.clientId, context.body, clientDeps) };
    },
    async getJwks() {
      const keys = await publishedKeys(db, config.retiredKeyPublishSeconds);
      return { status: 200, body: { keys }, headers: { 'cache-control': 'public, max-age=300' } };
    },
    async rotateSigningKeys() {
      const rotated = await rotateSigningKey(db, box);
      const accessTokens = rotated.find((key) => key.alg === SIGNING_ALG)!;
      return { status: 200, body: { activeKid: accessTokens.activeKid, retiredKid: accessTokens.retiredKid, keys: rotated } };
    },
  };
}
