// The State design system's components (DSFR, see design-system.ts) as the pages write them: one
// place for the markup each component needs (its classes, the label after the input, the hint
// inside the label…), so every page writes a notice, a checkbox or a button the same way. Every
// argument named `html` is already HTML; every other text is escaped here.
import { escapeHtml } from './html.js';

export type Tone = 'ok' | 'warn' | 'danger';

// Class names are written whole, so that the design system's stylesheet keeps their rules
// (scripts/design-system.mjs keeps only the classes the pages' sources name).
const badgeTone: Record<Tone, string> = { ok: 'fr-badge--success', warn: 'fr-badge--warning', danger: 'fr-badge--error' };

/** A status label (certified, suspended, required…). */
export const badge = (tone: Tone, label: string): string =>
  `<span class="fr-badge fr-badge--sm fr-badge--no-icon ${badgeTone[tone]}">${escapeHtml(label)}</span>`;

export type AlertKind = 'info' | 'success' | 'warning' | 'error';

const alertKind: Record<AlertKind, string> = { info: 'fr-alert--info', success: 'fr-alert--success', warning: 'fr-alert--warning', error: 'fr-alert--error' };

/**
 * A message about the page or what just happened (an error of the form, an app's suspension,
 * "access withdrawn"): with a heading, or small with its text alone. `role` makes a screen reader
 * announce it (`alert` for errors the patient must fix, `status` for news).
 */
export function alert(kind: AlertKind, html: string, options: { title?: string; role?: 'alert' | 'status'; id?: string; headingLevel?: 2 | 3 } = {}): string {
  const attributes = `${options.role ? ` role="${options.role}"` : ''}${options.id ? ` id="${escapeHtml(options.id)}"` : ''}`;
  const level = options.headingLevel ?? 2;
  const title = options.title ? `<h${level} class="fr-alert__title">${escapeHtml(options.title)}</h${level}>` : '';
  return `<div class="fr-alert ${alertKind[kind]}${options.title ? '' : ' fr-alert--sm'}"${attributes}>${title}${html}</div>`;
}

export type ButtonKind = 'primary' | 'secondary' | 'tertiary';

const buttonClass = (kind: ButtonKind) => ({ primary: 'fr-btn', secondary: 'fr-btn fr-btn--secondary', tertiary: 'fr-btn fr-btn--tertiary' })[kind];

/** A form's button; `name`/`value` say which one was pressed. */
export function button(label: string, options: { kind?: ButtonKind; name?: string; value?: string; describedBy?: string } = {}): string {
  const named = options.name ? ` name="${escapeHtml(options.name)}" value="${escapeHtml(options.value ?? '')}"` : '';
  const described = options.describedBy ? ` aria-describedby="${escapeHtml(options.describedBy)}"` : '';
  return `<button class="${buttonClass(options.kind ?? 'primary')}"${named}${described}>${escapeHtml(label)}</button>`;
}

/** A link that looks like a button (it goes somewhere rather than changing anything). */
export const buttonLink = (href: string, label: string, options: { kind?: ButtonKind; download?: boolean } = {}): string =>
  `<a class="${buttonClass(options.kind ?? 'primary')}" href="${escapeHtml(href)}"${options.download ? ' download' : ''}>${escapeHtml(label)}</a>`;

/** A card: a framed block of the page (an app, a permission, a patient to sign in as). */
export const card = (html: string, options: { tag?: 'li' | 'section' | 'div'; label?: string } = {}): string => {
  const tag = options.tag ?? 'li';
  const label = options.label ? ` aria-label="${escapeHtml(options.label)}"` : '';
  return `<${tag} class="fr-card fr-card--no-arrow mes-card"${label}><div class="fr-card__body"><div class="fr-card__content">${html}</div></div></${tag}>`;
};

/** A text field (search, date, identifier) with its label and, when given, a hint read with it. */
export function inputField(options: { id: string; label: string; hint?: string; input: string; invalid?: boolean }): string {
  const hint = options.hint ? `<span class="fr-hint-text" id="${escapeHtml(options.id)}-hint">${escapeHtml(options.hint)}</span>` : '';
  return `<div class="fr-input-group${options.invalid ? ' fr-input-group--error' : ''}"><label class="fr-label" for="${escapeHtml(options.id)}">${escapeHtml(options.label)}${hint}</label>
${options.input}</div>`;
}

/** A drop-down list with its label; `options` is the <option> elements; an invalid one points to the message saying why (`describedBy`). */
export const selectField = (options: { id: string; name: string; label: string; options: string; invalid?: boolean; describedBy?: string }): string =>
  `<div class="fr-select-group${options.invalid ? ' fr-select-group--error' : ''}"><label class="fr-label" for="${escapeHtml(options.id)}">${escapeHtml(options.label)}</label>
<select class="fr-select" id="${escapeHtml(options.id)}" name="${escapeHtml(options.name)}"${options.invalid ? ` aria-invalid="true"${options.describedBy ? ` aria-describedby="${escapeHtml(options.describedBy)}"` : ''}` : ''}>${options.options}</select></div>`;

/** A group of radios or checkboxes under a legend; `elements` are radio() or checkbox() results. */
export const fieldset = (legend: string, elements: readonly string[], options: { hintHtml?: string; id?: string } = {}): string =>
  `<fieldset class="fr-fieldset"${options.id ? ` id="${escapeHtml(options.id)}"` : ''}><legend class="fr-fieldset__legend">${escapeHtml(legend)}${options.hintHtml ? `<span class="fr-hint-text">${options.hintHtml}</span>` : ''}</legend>
${elements.map((element) => `<div class="fr-fieldset__element">${element}</div>`).join('\n')}
</fieldset>`;

/** One radio of a fieldset. */
export const radio = (options: { id: string; name: string; value: string; label: string; checked?: boolean }): string =>
  `<div class="fr-radio-group"><input type="radio" id="${escapeHtml(options.id)}" name="${escapeHtml(options.name)}" value="${escapeHtml(options.value)}"${options.checked ? ' checked' : ''}><label class="fr-label" for="${escapeHtml(options.id)}">${escapeHtml(options.label)}</label></div>`;

/**
 * One checkbox of a fieldset, its hint (`hintHtml`) read with it. A required one is checked and
 * disabled, with no name: the form does not send it, the server grants it anyway.
 */
export function checkbox(options: { id: string; name?: string; value?: string; label: string; hintHtml?: string; checked?: boolean; disabled?: boolean }): string {
  const hintId = `${options.id}-hint`;
  const named = options.name ? ` name="${escapeHtml(options.name)}" value="${escapeHtml(options.value ?? '')}"` : '';
  const hint = options.hintHtml ? `<span class="fr-hint-text" id="${escapeHtml(hintId)}">${options.hintHtml}</span>` : '';
  return `<div class="fr-checkbox-group"><input type="checkbox" id="${escapeHtml(options.id)}"${named}${options.checked ? ' checked' : ''}${options.disabled ? ' disabled' : ''}${options.hintHtml ? ` aria-describedby="${escapeHtml(hintId)}"` : ''}><label class="fr-label" for="${escapeHtml(options.id)}">${escapeHtml(options.label)}${hint}</label></div>`;
}

/** A small label for a category or a permission. */
export const tag = (label: string): string => `<span class="fr-tag fr-tag--sm">${escapeHtml(label)}</span>`;
