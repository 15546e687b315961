import type { App } from '@mes/sdk/publisher';
import { Args, Flags } from '@oclif/core';
import { appBody, appFieldFlags, asAppUpdate } from '../../app-fields.js';
import { CodedError, MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { appDetails } from '../../views.js';

export default class AppsUpdate extends MesCommand<typeof AppsUpdate> {
  static override summary = 'Change some fields of one of your apps.';
  static override description = `Sends only the fields you give, with --file (a JSON object of the fields to change) and/or field flags. --redirect-uri and --scope replace the whole list.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> 0b6f… --name "TensioSuivi Pro"',
    '<%= config.bin %> <%= command.id %> 0b6f… --redirect-uri https://app.example.fr/cb --redirect-uri http://127.0.0.1:8765/cb',
    '<%= config.bin %> <%= command.id %> 0b6f… --file changes.json --json',
    '<%= config.bin %> <%= command.id %> 0b6f… --remove-logo',
  ];

  static override args = { id: Args.string({ description: 'The app id.', required: true }) };

  static override flags = {
    ...appFieldFlags,
    'remove-logo': Flags.boolean({ summary: 'Remove the logo.', exclusive: ['logo-url'], helpGroup: 'FIELD' }),
  };

  async run(): Promise<App> {
    const body = await appBody(this.flags);
    if (this.flags['remove-logo']) body.logoUrl = null;
    if (Object.keys(body).length === 0) throw new CodedError(messages.nothingToUpdate, 'nothing_to_update');
    const app = await (await this.client({ authenticated: true })).apps.update(this.args.id, asAppUpdate(body));
    this.log(messages.appUpdated(app.name, app.id));
    this.log(appDetails(app));
    return app;
  }
}
