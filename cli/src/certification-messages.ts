// Every message the certification commands (apps checks/submit/status, review, certs, log) print
// at run time, kept apart from messages.ts so the workflow's wording reads in one place.
export const certificationMessages = {
  // mes apps checks / review check
  checksAllPass: (count: number) => `All ${count} checks pass.`,
  checksFailing: (count: number) => `${count} check(s) fail: reviewers cannot approve until they pass.`,
  remediesHeader: 'To fix:',
  noChecks: 'No check has run yet.',

  // mes apps submit
  submitted: (version: string, id: string, state: string) => `Submitted version ${version} as submission ${id} (${state}).`,
  resubmitted: (version: string, id: string, state: string) =>
    `Resubmitted version ${version} (submission ${id}, back ${state}): the checks ran again and earlier approvals no longer count.`,
  failingChecksAfterSubmit: (count: number, bin: string, appId: string) =>
    `${count} failing check(s): see them with "${bin} apps checks ${appId}", fix them, then wait for the reviewers' request for changes or submit a new version.`,

  // mes apps status
  noCertificate: 'No live certificate.',
  noOpenSubmission: 'No submission under way.',
  noSubmissions: 'No submission yet.',
  submitHint: (bin: string, appId: string) => `Submit a version with "${bin} apps submit ${appId} --version <v>".`,
  changesRequestedHint: (bin: string, appId: string, version: string) =>
    `Changes were requested: fix what the reviewers say, then resubmit with "${bin} apps submit ${appId} --version ${version} --note <what changed>" (or a new version number).`,

  // mes review …
  emptyQueue: (state: string | undefined) => (state ? `No submission is ${state}.` : 'No submission waiting for review.'),
  reviewRecorded: (decision: string, id: string, state: string, approvals: number) =>
    `Recorded ${decision} on submission ${id}: now ${state}, ${approvals} approval(s) of the 2 needed.`,
  certified: (reference: string, version: string, id: string) => `Certified: ${reference}, version ${version} (certificate ${id}).`,
  criteriaFileInvalid: (file: string, problems: readonly string[]) =>
    `${file} is not a valid criteria file; nothing was sent:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
  criteriaFileHelp: (bin: string) => `Start from "${bin} review criteria --template > criteria.json" (see "${bin} review approve --help").`,
  criteriaVersionMismatch: (file: string, fileVersion: string, submissionVersion: string) =>
    `${file} is for criteria version ${fileVersion}, but the submission is reviewed against ${submissionVersion}; nothing was sent. Start from "mes review criteria --version ${submissionVersion} --template".`,
  emptyNote: '--note is empty: say why (it is sent to the publisher with a request for changes).',
  noteTooLong: (max: number) => `--note is longer than ${max} characters.`,
  reportWritten: (file: string, format: string) => `Report (${format}) written to ${file}.`,
  reportNotWritable: (file: string, reason: string) => `Cannot write ${file}: ${reason}`,

  // mes certs …
  noCertificates: 'No certificate matches.',
  certificateChanged: (action: string, reference: string, id: string, state: string) => `${action} certificate ${reference} (${id}): now ${state}.`,
  jwsNotReadable: (source: string, reason: string) => `Cannot read the certificate from ${source}: ${reason}`,
  notACertificate: (value: string) =>
    `${value} is neither a certificate id nor a readable file with a certificate (a JWS, or the JSON of "mes certs show --json"), nor "-" for standard input.`,
  noJwsInJson: (source: string) => `${source} is JSON without a "jws" member: pass the certificate's JWS, or the JSON of "mes certs show --json".`,
  offlineNeedsCertificate: 'With --offline, pass the certificate itself (a file or "-" for standard input), not its id: an id has to be looked up online.',
  jwksNotReadable: (file: string, reason: string) => `Cannot read the keys in ${file}: ${reason}`,
  jwksInvalid: (file: string) => `${file} is not a JWKS: it must be a JSON object with a "keys" array (as /certification/keys publishes).`,
  stateUnavailable: (reason: string) => `Current state unknown: ${reason}`,
  stateWarning: (state: string, reason: string | null) =>
    `The signature is valid, but the certificate is ${state} now${reason ? ` (${reason})` : ''}: the app may not be used under it.`,

  // mes log verify
  logValid: (entries: number, seq: number, hash: string) => `Decision log verified: ${entries} entries, head at position ${seq} (${hash}).`,
  logBroken: (seq: number, reason: string, detail: string) => `Decision log broken at position ${seq}: ${reason}: ${detail}.`,
  logFileInvalid: (file: string) => `${file} is not a saved decision log: it must be {"items": [...], "head": {"seq": …, "hash": "…"}} as the API answers.`,
  logSaved: (file: string) => `Log saved in ${file}; verify it later with "mes log verify --from-file ${file}".`,
  logNoHead: 'The file has no published head: the chain was checked, not that it is the whole log.',
} as const;
