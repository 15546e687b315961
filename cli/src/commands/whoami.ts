import type { components } from '@mes/openapi';
import { MesCommand } from '../base-command.js';

export type WhoamiResult = components['schemas']['Caller'] & { apiUrl: string };

export default class Whoami extends MesCommand<typeof Whoami> {
  static override summary = 'Show who the command line acts as.';
  static override description = 'The publisher or reviewer behind MES_TOKEN, the saved key or the signed-in session, how it is authenticated, and the scopes of a session.';
  static override examples = ['<%= config.bin %> <%= command.id %>', 'MES_TOKEN=mes_rk_… <%= config.bin %> <%= command.id %> --json'];

  async run(): Promise<WhoamiResult> {
    const apiUrl = await this.apiUrl();
    const caller = await (await this.client({ authenticated: true })).certification.whoami();
    this.log(`${caller.kind} ${caller.name} (${caller.id}) at ${apiUrl}, via ${caller.via === 'api_key' ? 'an API key' : 'a signed-in session'}${caller.scopes ? ` with ${caller.scopes.join(' ')}` : ''}`);
    return { ...caller, apiUrl };
  }
}
