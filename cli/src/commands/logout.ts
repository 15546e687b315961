import { MesCommand } from '../base-command.js';
import { configFile, removeLogin } from '../credentials.js';
import { messages } from '../messages.js';

export interface LogoutResult {
  removed: boolean;
  configFile: string;
}

export default class Logout extends MesCommand<typeof Logout> {
  static override summary = 'Forget the saved API key.';
  static override description = 'Removes config.json from the CLI\'s configuration directory. The key itself stays valid: revoke it in the API if it leaked.';
  static override examples = ['<%= config.bin %> <%= command.id %>'];

  async run(): Promise<LogoutResult> {
    const file = configFile(this.config.configDir);
    const removed = await removeLogin(this.config.configDir);
    this.log(removed ? messages.loggedOut(file) : messages.notLoggedIn);
    if (process.env.MES_API_KEY) this.warn(messages.envKeyStillSet);
    return { removed, configFile: file };
  }
}
