// How an app presents itself to patients, the same on the consent screen, in the catalogue and
// in "my connected apps": its logo (served by the platform, see the catalogue pages), its name,
// its publisher, and its certification (status, reference, date).
import type { AppForPatients, CertificationStatus } from '../modules/catalog/index.js';
import { badge, button, type Tone } from './components.js';
import { escapeHtml } from './html.js';
import { formatDate, messages, type Lang } from './i18n.js';
import { initialsOf } from './initials.js';

/** The path of an app's logo on the platform (the catalogue fetches and checks it once, then serves it). */
export const logoPath = (appId: string) => `/catalogue/${encodeURIComponent(appId)}/logo`;

/** The path of an app's page in the catalogue. */
export const catalogueAppPath = (appId: string) => `/catalogue/${encodeURIComponent(appId)}`;

const text = messages({
  fr: {
    by: 'Éditée par',
    certified: 'Certifiée',
    suspended: 'Certification suspendue',
    revoked: 'Certification retirée',
    expired: 'Certification expirée',
    notCertified: 'Non certifiée',
    reference: 'Certificat n°',
    since: 'depuis le',
  },
  en: {
    by: 'Published by',
    certified: 'Certified',
    suspended: 'Certification suspended',
    revoked: 'Certification withdrawn',
    expired: 'Certification expired',
    notCertified: 'Not certified',
    reference: 'Certificate no.',
    since: 'since',
  },
});

type Presented = Pick<AppForPatients, 'id' | 'name' | 'logoUrl' | 'publisher' | 'certificationStatus' | 'certifiedAt' | 'certificateReference'>;

/** The status of a certification in words, with the badge's tone. */
export function certificationLabel(status: CertificationStatus, lang: Lang): { label: string; tone: Tone } {
  const t = text(lang);
  switch (status) {
    case 'certified':
      return { label: t.certified, tone: 'ok' };
    case 'suspended':
      return { label: t.suspended, tone: 'warn' };
    case 'revoked':
      return { label: t.revoked, tone: 'danger' };
    case 'expired':
      return { label: t.expired, tone: 'danger' };
    default:
      return { label: t.notCertified, tone: 'warn' };
  }
}

/**
 * The app's logo (decorative: the name is always next to it, hence alt=""), or its initials in a
 * tile when it has no logoUrl. A logo that cannot be shown is answered by the platform as an image
 * of the same initials (app-logos.ts).
 */
export function appLogo(app: Pick<Presented, 'id' | 'name' | 'logoUrl'>): string {
  if (app.logoUrl) return `<img src="${escapeHtml(logoPath(app.id))}" alt="" width="64" height="64">`;
  return `<span class="logo-placeholder" aria-hidden="true">${escapeHtml(initialsOf(app.name))}</span>`;
}

/**
 * The head of an app's presentation: logo, name as a heading of `level`, publisher, and the
 * certification badge with its reference and date. `nameHtml` replaces the plain name (e.g. a link).
 */
export function appIdentity(app: Presented, lang: Lang, options: { level: 1 | 2 | 3; nameHtml?: string }): string {
  const t = text(lang);
  const { label, tone } = certificationLabel(app.certificationStatus, lang);
  const reference = app.certificateReference ? ` · ${escapeHtml(t.reference)} <strong>${escapeHtml(app.certificateReference)}</strong>` : '';
  const since = app.certificationStatus === 'certified' && app.certifiedAt ? ` ${escapeHtml(t.since)} ${escapeHtml(formatDate(lang, new Date(app.certifiedAt)))}` : '';
  return `<div class="app-head">${appLogo(app)}<div>
<h${options.level}>${options.nameHtml ?? escapeHtml(app.name)}</h${options.level}>
<p>${escapeHtml(t.by)} <strong>${escapeHtml(app.publisher.name)}</strong></p>
<p>${badge(tone, label)}${since}${reference}</p>
</div></div>`;
}

/** Certification states in which an app is cut off from patients' data. */
export const CUT_OFF: readonly string[] = ['suspended', 'revoked', 'expired'];

/** Whether "Ouvrir l'application" is offered for an app: it registered a launch URL and is not cut off. */
export const launchable = (app: Pick<AppForPatients, 'launchUrl' | 'certificationStatus'>): boolean => app.launchUrl !== null && !CUT_OFF.includes(app.certificationStatus);

/**
 * The form of "Ouvrir l'application" (a SMART EHR launch through the platform), for the signed-in
 * person or a child they act for. Its page's CSP must allow the launch URL's origin as a form target.
 */
export function launchForm(app: Pick<AppForPatients, 'id'>, csrfToken: string, label: string, forPatient?: string): string {
  const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
  return `<form method="post" action="/patient/launch">${hidden('csrf_token', csrfToken)}${hidden('app_id', app.id)}${forPatient ? hidden('for', forPatient) : ''}${button(label)}</form>`;
}
