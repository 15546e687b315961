// How apps look in human output: one table row per app in lists, a label/value block for one.
import type { App, CatalogApp, LocalizedText, SupportContact } from '@mes/sdk';
import { details, shortDate, table } from './output.js';

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
