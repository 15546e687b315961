import type { App } from '@mes/sdk/publisher';
import { appBody, appFieldFlags, asAppInput } from '../../app-fields.js';
import { MesCommand } from '../../base-command.js';
import { messages } from '../../messages.js';
import { appDetails } from '../../views.js';

export default class AppsCreate extends MesCommand<typeof AppsCreate> {
  static override summary = 'Create an app (it starts in draft).';
  static override description = `Takes the app as JSON (the AppInput of the API reference) with --file, and/or field flags, which override the file's values. The server checks the result; a missing or invalid field is reported with its JSON pointer.

--scope takes "scope=justification": the scope ends at the last "=" before the first space.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --file app.json',
    'cat app.json | <%= config.bin %> <%= command.id %> --file - --json',
    `<%= config.bin %> <%= command.id %> --file app.json --name "TensioSuivi Pro" --redirect-uri https://app.example.fr/cb --scope "patient/Observation.rs?category=vital-signs=Lire vos mesures de tension."`,
  ];

  static override flags = appFieldFlags;

  async run(): Promise<App> {
    const body = asAppInput(await appBody(this.flags));
    const app = await (await this.client({ authenticated: true })).apps.create(body);
    this.log(messages.appCreated(app.name, app.id));
    this.log(appDetails(app));
    return app;
  }
}
