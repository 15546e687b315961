import type { App } from '@mes/sdk/publisher';
import { Args } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { appDetails } from '../../views.js';

export default class AppsShow extends MesCommand<typeof AppsShow> {
  static override summary = 'Show one of your apps.';
  static override description = 'Every field of the app, its redirect URIs and scopes, and where it stands in certification.';
  static override examples = ['<%= config.bin %> <%= command.id %> 0b6f…', '<%= config.bin %> <%= command.id %> 0b6f… --json'];
  static override args = { id: Args.string({ description: 'The app id.', required: true }) };

  async run(): Promise<App> {
    const app = await (await this.client({ authenticated: true })).apps.get(this.args.id);
    this.log(appDetails(app));
    return app;
  }
}
