// Every message the CLI prints at run time, in one place (command descriptions and examples sit
// on the command classes, where oclif's help and manifest read them).
export const defaultApiUrl = 'http://localhost:4010';

export const messages = {
  noApiKey: 'No API key: run "mes login --api-key <key>" or set MES_API_KEY.',
  noApiKeyCode: 'no_api_key',
  unreachable: (message: string) => `${message} Is the server running? Choose it with --api-url or MES_API_URL.`,
  configNotJson: (file: string) => `${file} is not valid JSON. Fix it, or run "mes logout" then "mes login" again.`,
  configTooOpen: (file: string) => `${file} can be read by other users; run "chmod 600 ${file}".`,
  loggedIn: (name: string, id: string, apiUrl: string) => `Logged in to ${apiUrl} as ${name} (${id}).`,
  keySaved: (file: string) => `API key saved in ${file}.`,
  emptyApiKey: 'The API key is empty.',
  loggedOut: (file: string) => `Logged out: removed ${file}.`,
  notLoggedIn: 'Not logged in: nothing to remove.',
  envKeyStillSet: 'MES_API_KEY is still set in your environment and keeps being used.',
  noApps: 'No apps yet. Create one with "mes apps create --file app.json".',
  noCatalogApps: 'No certified app matches.',
  morePages: (command: string, cursor: string) => `More results: ${command} --cursor ${cursor}`,
  appCreated: (name: string, id: string) => `Created app ${name} (${id}), in draft.`,
  appUpdated: (name: string, id: string) => `Updated app ${name} (${id}).`,
  appDeleted: (id: string) => `Deleted app ${id}.`,
  deleteNeedsYes: (id: string) =>
    `Refusing to delete app ${id} without confirmation: pass --yes (required when not run interactively or with --json).`,
  deletePrompt: (id: string) => `Delete app ${id}? This cannot be undone. Type "yes" to confirm: `,
  deleteCancelled: 'Cancelled: nothing was deleted.',
  nothingToUpdate: 'Nothing to change: pass --file or at least one field flag (see "mes apps update --help").',
  fileNotReadable: (file: string, reason: string) => `Cannot read ${file}: ${reason}`,
  fileNotJson: (file: string) => `${file} is not valid JSON.`,
  fileNotObject: (file: string) => `${file} must contain a JSON object.`,
  badScope: (value: string) =>
    `--scope "${value}" must look like "scope=justification", e.g. "patient/Observation.rs=Lire vos mesures de tension."`,
} as const;
