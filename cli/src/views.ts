// How things look in human output: one table row per item in lists (apps, synthetic patients,
// faults), a label/value block for one (an app, a sandbox token, a traffic report).
import type { App, CatalogApp, Fault, LocalizedText, SandboxPatient, SupportContact, TrafficReport } from '@mes/sdk/publisher';
import { messages } from './messages.js';
import { details, shortDate, table } from './output.js';
import type { SavedSandboxToken } from './sandbox-token.js';

const text = (value: LocalizedText) => (value.en ? [`${value.fr}`, `(en) ${value.en}`] : [value.fr]);
const support = (contact: SupportContact) => [contact.email, contact.url, contact.phone].filter((v): v is string => Boolean(v)).join(', ');
const scopes = (app: { scopes: App['scopes'] }) => app.scopes.map((s) => `${s.scope} — ${s.justification}`);

export function appsTable(apps: readonly App[]): string {
  return table(apps, [
    { header: 'id', get: (app) => app.id },
    { header: 'name', get: (app) => app.name },
    { header: 'category', get: (app) => app.category },
    { header: 'status', get: (app) => app.certificationStatus },
    { header: 'updated', get: (app) => shortDate(app.updatedAt) },
  ]);
}

export function appDetails(app: App): string {
  return details([
    ['ID', app.id],
    ['Name', app.name],
    ['Status', app.certificationStatus],
    ['Certified', app.certifiedAt ? shortDate(app.certifiedAt) : null],
    ['Category', app.category],
    ['Summary', text(app.shortDescription)],
    ['Description', text(app.longDescription)],
    ['Website', app.websiteUrl],
    ['Logo', app.logoUrl],
    ['Redirect URIs', app.redirectUris],
    ['Scopes', scopes(app)],
    ['Privacy policy', app.privacyPolicyUrl],
    ['Terms', app.termsUrl],
    ['Support', support(app.supportContact)],
    ['Created', shortDate(app.createdAt)],
    ['Updated', shortDate(app.updatedAt)],
  ]);
}

export function catalogTable(apps: readonly CatalogApp[]): string {
  return table(apps, [
    { header: 'id', get: (app) => app.id },
    { header: 'name', get: (app) => app.name },
    { header: 'category', get: (app) => app.category },
    { header: 'publisher', get: (app) => app.publisher.name },
  ]);
}

export function catalogAppDetails(app: CatalogApp): string {
  return details([
    ['ID', app.id],
    ['Name', app.name],
    ['Publisher', `${app.publisher.name} (${app.publisher.id})`],
    ['Category', app.category],
    ['Certified', shortDate(app.certifiedAt)],
    ['Summary', text(app.shortDescription)],
    ['Description', text(app.longDescription)],
    ['Website', app.websiteUrl],
    ['Logo', app.logoUrl],
    ['Scopes', scopes(app)],
    ['Privacy policy', app.privacyPolicyUrl],
    ['Terms', app.termsUrl],
    ['Support', support(app.supportContact)],
  ]);
}

export function sandboxPatientsTable(patients: readonly SandboxPatient[]): string {
  return table(patients, [
    { header: 'id', get: (patient) => patient.id },
    { header: 'name', get: (patient) => patient.name },
    { header: 'birth date', get: (patient) => patient.birthDate ?? '-' },
    { header: 'children', get: (patient) => (patient.children?.length ? patient.children.join(', ') : '-') },
  ]);
}

const faultTiming = (fault: Fault) =>
  [fault.retryAfterSeconds ? `Retry-After ${fault.retryAfterSeconds} s` : '', fault.latencyMs ? `${fault.latencyMs} ms later` : ''].filter(Boolean).join(', ') || '-';

export function faultsTable(faults: readonly Fault[]): string {
  return table(faults, [
    { header: 'id', get: (fault) => fault.id },
    { header: 'kind', get: (fault) => fault.kind },
    { header: 'target', get: (fault) => fault.target },
    { header: 'remaining', get: (fault) => String(fault.remaining) },
    { header: 'timing', get: faultTiming },
    { header: 'created', get: (fault) => shortDate(fault.createdAt) },
  ]);
}

export function faultDetails(fault: Fault): string {
  return details([
    ['ID', fault.id],
    ['Kind', fault.kind],
    ['Target', fault.target],
    ['Remaining', String(fault.remaining)],
    ['Timing', faultTiming(fault)],
  ]);
}

export function sandboxTokenDetails(token: SavedSandboxToken, file: string): string {
  const seconds = Math.round((Date.parse(token.expiresAt) - Date.now()) / 1000);
  return details([
    ['Access token', token.accessToken],
    ['Refresh token', token.refreshToken],
    ['Patient', token.patient],
    ['Client', token.clientId],
    ['Scope', token.scope.split(' ')],
    ['Expires', `${token.expiresAt} (in ${seconds} s)`],
    ['DPoP key', messages.tokenKey(file)],
  ]);
}

const counts = (tally: Record<string, number>) => Object.entries(tally).map(([name, count]) => `${name} ×${count}`);
const retries = (tally: TrafficReport['reactions']['rateLimited']) =>
  tally.count === 0 ? '0' : `${tally.count}: ${tally.waitedRetryAfter} waited for Retry-After, ${tally.retriedTooSoon} retried too soon`;

/** The traffic report for a reader: the facts, then what the app should change. */
export function trafficReportDetails(report: TrafficReport): string {
  const { authorization, dpop, scopes, reactions, faults } = report;
  const block = details([
    ['Client', report.clientId],
    ['Requests', report.requests ? `${report.requests}, from ${shortDate(report.firstRequestAt ?? null)} to ${shortDate(report.lastRequestAt ?? null)}` : '0'],
    ['Grant types', counts(report.grantTypes)],
    ['Authorizations', `${authorization.requests} (${authorization.pushed} pushed with PAR, ${authorization.pkce} with PKCE S256)`],
    ['DPoP at token', `${dpop.tokenRequestsWithProof} of ${dpop.tokenRequests} request(s) with a proof`],
    ['DPoP at FHIR', `${dpop.resourceRequestsWithProof} of ${dpop.resourceRequests} request(s) with a proof`],
    ['Refreshes', String(report.refreshes)],
    ['Scopes requested', scopes.requested],
    ['Types called', scopes.resourceTypesCalled],
    ['Unused scopes', scopes.unusedResourceScopes],
    ['Refused calls', `${scopes.refusedCalls} (403 for their scope)`],
    ['After a 401', reactions.unauthorized.count === 0 ? '0' : `${reactions.unauthorized.count}: ${reactions.unauthorized.recovered} followed by a new token before the next call`],
    ['After a 429', retries(reactions.rateLimited)],
    ['After a 503', retries(reactions.unavailable)],
    [
      'After its grant ended',
      reactions.grantEnded.count === 0 ? '0' : `${reactions.grantEnded.count}: ${reactions.grantEnded.stopped} stopped, ${reactions.grantEnded.retried} used the ended grant again`,
    ],
    ['Faults', `${faults.injected} injected, ${faults.pending} pending`],
    ...(report.polling
      ? ([['Polling', `${report.polling.searches} search(es) of notified kinds, ${report.polling.emptySearches} found nothing, ${report.polling.savedBySubscriptions} a subscription would have saved`]] as [string, string][])
      : []),
  ]);
  if (report.requests === 0) return `${block}\n\n${messages.reportEmpty}`;
  const notes = reportNotes(report);
  return notes.length ? `${block}\n\n${messages.reportNotesHeader}\n${notes.map((note) => `  - ${note}`).join('\n')}` : block;
}

function reportNotes({ dpop, scopes, reactions, polling }: TrafficReport): string[] {
  const note = messages.reportNotes;
  const notes: string[] = [];
  if (dpop.tokenRequestsWithProof < dpop.tokenRequests) notes.push(note.tokenWithoutProof(dpop.tokenRequests - dpop.tokenRequestsWithProof));
  if (dpop.resourceRequestsWithProof < dpop.resourceRequests) notes.push(note.resourceWithoutProof(dpop.resourceRequests - dpop.resourceRequestsWithProof));
  if (scopes.unusedResourceScopes.length) notes.push(note.unusedScopes(scopes.unusedResourceScopes));
  if (scopes.refusedCalls) notes.push(note.refusedCalls(scopes.refusedCalls));
  if (reactions.unauthorized.count > reactions.unauthorized.recovered) notes.push(note.unrecovered(reactions.unauthorized.count - reactions.unauthorized.recovered));
  if (reactions.rateLimited.retriedTooSoon) notes.push(note.tooSoon(429, reactions.rateLimited.retriedTooSoon));
  if (reactions.unavailable.retriedTooSoon) notes.push(note.tooSoon(503, reactions.unavailable.retriedTooSoon));
  if (reactions.grantEnded.retried) notes.push(note.usedEndedGrant(reactions.grantEnded.retried));
  if (polling?.savedBySubscriptions) notes.push(note.pollsToSave(polling.savedBySubscriptions, Object.keys(polling.byTopic).filter((topic) => polling.byTopic[topic]!.saved > 0)));
  return notes;
}
