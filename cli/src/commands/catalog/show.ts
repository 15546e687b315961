import type { CatalogApp } from '@mes/sdk/publisher';
import { Args } from '@oclif/core';
import { MesCommand } from '../../base-command.js';
import { catalogAppDetails } from '../../views.js';

export default class CatalogShow extends MesCommand<typeof CatalogShow> {
  static override summary = 'Show a certified app of the catalogue.';
  static override description = 'What patients see: the publisher, the description, and every scope the app may ask for with its justification. No API key needed.';
  static override examples = ['<%= config.bin %> <%= command.id %> 0b6f…', '<%= config.bin %> <%= command.id %> 0b6f… --json'];
  static override args = { id: Args.string({ description: 'The app id.', required: true }) };

  async run(): Promise<CatalogApp> {
    const app = await (await this.client({ authenticated: false })).catalog.get(this.args.id);
    this.log(catalogAppDetails(app));
    return app;
  }
}
