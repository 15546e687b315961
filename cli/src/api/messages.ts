// What `mes api` prints at run time and in its help, in one place (the CLI's other messages are in
// ../messages.ts).
export const apiMessages = {
  // Help
  authApiKey: (schemes: readonly string[]) =>
    `Authentication: your API key (MES_API_KEY, or the one saved by "mes login") as "Authorization: Bearer <key>" (${schemes.join(', ')}).`,
  authSandboxToken: (schemes: readonly string[]) =>
    `Authentication: the patient-data token saved by "mes sandbox token" (on the same API URL), as "Authorization: DPoP <token>" with a fresh DPoP proof (${schemes.join(', ')}).`,
  authNone: (schemes: readonly string[]) =>
    `Authentication: ${schemes.join(', ')}, which the CLI does not send: the server answers 401 unless the operation is open to anyone.`,
  authPublic: 'Authentication: none (public).',
  bodyHeader: (contentType: string, required: boolean, form: boolean) =>
    `Body (${contentType}${required ? ', required' : ''}): --body <file|-> ${form ? '(a JSON object or name=value&… text) ' : ''}and/or --field name=value, repeatable, over the file's values${form ? '' : ' (a value is parsed as JSON when it parses, else taken as text; a string field takes the text as it is; repeating an array field adds items)'}:`,
  rawBodyHeader: (contentType: string, required: boolean) => `Body (${contentType}${required ? ', required' : ''}): the bytes of --body <file|->.`,
  output:
    'Output: with --json, only the response body: its JSON, or its text for a text answer (HTML, CSV, CSS). Otherwise the JSON indented, or the text. A redirect (3xx) prints where it goes.',
  exitCodes:
    'Exit codes: 0 when the server answers 2xx or 3xx; 1 when it refuses the request (4xx: "code: detail (request id …)" is printed; with --json {"error": {"code", "message", "status", "requestId", "errors"}}) or when the CLI refuses it (unreadable --body, malformed --field); 2 on a server error (5xx) or no answer (connection refused, timeout), and for wrong flags.',
  bodySummary: 'The request body: a JSON file, or - for standard input.',
  formBodySummary: 'The form: a file with a JSON object or name=value&… text, or - for standard input.',
  rawBodySummary: 'The request body: a file sent as it is, or - for standard input.',
  fieldSummary: 'A body field as name=value (the value parsed as JSON when it parses); repeatable; overrides --body.',
  formFieldSummary: 'A form field as name=value; repeatable; overrides --body.',
  timeoutSummary: 'Seconds to wait for the answer.',
  listSummary: 'List every operation (what "mes api" does without arguments too).',
  tagSummary: 'Only the operations of this tag.',
  unknownTag: (tag: string, tags: readonly string[]) => `No operation has the tag ${tag}; the tags are ${tags.join(', ')}.`,

  // Run time
  badField: (raw: string) => `--field "${raw}" must look like name=value, e.g. --field name=TensioSuivi or --field 'redirectUris=["https://app.example.fr/cb"]'.`,
  fieldsNeedObject: 'The --body is not a JSON object, so --field cannot be merged into it.',
  noFieldsForRaw: (contentType: string) => `This operation takes ${contentType}: give it with --body, --field does not apply.`,
  missingBody: (operationId: string) => `${operationId} needs a request body: pass --body <file|-> or --field name=value (see "mes api ${operationId} --help").`,
  badPathValue: (flag: string) => `--${flag} must not be empty, "." or "..".`,
  badNumber: (value: string) => `Expected a number, got "${value}".`,
  timeout: (url: string, seconds: number) => `No answer from ${url} within ${seconds} s.`,
  unreachable: (url: string, reason: string) => `Cannot reach ${url} (${reason}). Is the server running? Choose it with --api-url or MES_API_URL.`,
  noKeyHint: 'No API key was sent: run "mes login --api-key <key>" or set MES_API_KEY.',
  noSandboxTokenHint: 'No sandbox token was sent: run "mes sandbox token --app <appId> --patient <id>" first (on the same API URL).',
  sandboxTokenExpired: (expiresAt: string) => `The saved sandbox token expired at ${expiresAt}: run "mes sandbox token" again.`,
  noContent: (status: number, statusText: string) => `${status} ${statusText}`.trim(),
  redirect: (status: number, location: string) => `${status} → ${location}`,
  binary: (bytes: number, contentType: string) => `${bytes} bytes of ${contentType}: redirect the output to a file (> file) to save them.`,
  unknownOperation: (name: string, suggestion: string | undefined) =>
    `No operation ${name}${suggestion ? `: did you mean "mes api ${suggestion}"?` : '.'} "mes api --list" lists them.`,
  noOperations: (tag: string) => `No operation has the tag ${tag}.`,
  listFooter: 'Call one with "mes api <operationId> [flags]"; "mes api <operationId> --help" shows its flags.',
} as const;
