import { MesCommand } from '../base-command.js';
import { configFile, removeLogin } from '../credentials.js';
import { messages } from '../messages.js';
import { hasSession, removeSession, sessionFile } from '../session-storage.js';

export interface LogoutResult {
  removed: boolean;
  /** Whether a signed-in session was ended on the server. */
  sessionEnded: boolean;
  configFile: string;
}

export default class Logout extends MesCommand<typeof Logout> {
  static override summary = 'Sign out: end the session and forget the saved key.';
  static override description =
    "Ends the device-flow session on the server (its tokens stop working at once), then removes session.json and config.json from the CLI's configuration directory. A saved API key itself stays valid: revoke it in the API if it leaked.";
  static override examples = ['<%= config.bin %> <%= command.id %>'];

  async run(): Promise<LogoutResult> {
    const dir = this.config.configDir;
    let sessionEnded = false;
    if (await hasSession(dir)) {
      // The server ends the session first; the files go even when it cannot be reached.
      sessionEnded = await (await this.sessionClient()).signOut().then(
        () => true,
        (error: unknown) => (this.warn(error instanceof Error ? error.message : String(error)), false),
      );
    }
    const removedSession = await removeSession(dir);
    const removedKey = await removeLogin(dir);
    const removed = removedSession || removedKey;
    if (removedSession) this.log(messages.sessionEnded(sessionFile(dir)));
    if (removedKey) this.log(messages.loggedOut(configFile(dir)));
    if (!removed) this.log(messages.notLoggedIn);
    for (const name of ['MES_TOKEN', 'MES_API_KEY']) if (process.env[name]) this.warn(messages.envKeyStillSet(name));
    return { removed, sessionEnded, configFile: configFile(dir) };
  }
}
