import { Flags } from '@oclif/core';
import { CodedError, MesCommand } from '../base-command.js';
import { writeLogin } from '../credentials.js';
import { messages } from '../messages.js';
import { readStdinText } from '../stdin.js';

export interface LoginResult {
  publisher: { id: string; name: string; status: string };
  apiUrl: string;
  configFile: string;
}

export default class Login extends MesCommand<typeof Login> {
  static override summary = 'Save a publisher API key for the next commands.';
  static override description = `Checks the key against the API, then saves it (and --api-url, when given) in config.json in the CLI's configuration directory (MES_CONFIG_DIR, else $XDG_CONFIG_HOME/mes or ~/.config/mes), readable by you only.

MES_API_KEY, when set, takes precedence over the saved key. Pass "-" to read the key from standard input and keep it out of your shell history.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --api-key mes_pk_…',
    'printenv MES_SANDBOX_KEY | <%= config.bin %> <%= command.id %> --api-key - --api-url https://sandbox.example',
  ];

  static override flags = {
    'api-key': Flags.string({ summary: 'Your publisher API key (mes_pk_…), or "-" to read it from standard input.', required: true, helpValue: '<key|->' }),
  };

  async run(): Promise<LoginResult> {
    const given = this.flags['api-key'];
    const apiKey = (given === '-' ? await readStdinText() : given).trim();
    if (!apiKey) throw new CodedError(messages.emptyApiKey, 'invalid_flag');
    const apiUrl = await this.apiUrl();
    const publisher = await (await this.client({ authenticated: true, apiKey })).publishers.me();
    const file = await writeLogin(this.config.configDir, { apiKey, ...(this.flags['api-url'] ? { apiUrl } : {}) });
    this.log(messages.loggedIn(publisher.name, publisher.id, apiUrl));
    this.log(messages.keySaved(file));
    return { publisher: { id: publisher.id, name: publisher.name, status: publisher.status }, apiUrl, configFile: file };
  }
}
