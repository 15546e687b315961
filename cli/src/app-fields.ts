// The app's fields as command-line flags, shared by `apps create` and `apps update`, and how a
// request body is built from a JSON file (--file) overlaid with those flags.
import { readFile } from 'node:fs/promises';
import { appCategories, type AppInput, type AppUpdate, type ScopeRequest } from '@mes/sdk/publisher';
import { Flags } from '@oclif/core';
import { CodedError } from './base-command.js';
import { messages } from './messages.js';
import { readStdinText } from './stdin.js';

export const appFieldFlags = {
  file: Flags.string({
    char: 'f',
    summary: 'JSON file with the app\'s fields (as in the API), or "-" for standard input. Flags override it.',
    helpValue: '<path|->',
  }),
  name: Flags.string({ summary: 'Name of the app (2 to 80 characters).', helpGroup: 'FIELD' }),
  category: Flags.option({ options: appCategories, summary: 'Catalogue category.', helpGroup: 'FIELD' })(),
  'short-description': Flags.string({ summary: 'Short description, in French.', helpGroup: 'FIELD' }),
  'short-description-en': Flags.string({ summary: 'Short description, in English.', helpGroup: 'FIELD' }),
  'long-description': Flags.string({ summary: 'Long description, in French.', helpGroup: 'FIELD' }),
  'long-description-en': Flags.string({ summary: 'Long description, in English.', helpGroup: 'FIELD' }),
  'website-url': Flags.string({ summary: 'Website (https).', helpGroup: 'FIELD', helpValue: '<url>' }),
  'logo-url': Flags.string({ summary: 'Logo (https).', helpGroup: 'FIELD', helpValue: '<url>' }),
  'redirect-uri': Flags.string({
    summary: 'OAuth redirect URI; repeat the flag for several. Replaces the whole list.',
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'FIELD',
    helpValue: '<uri>',
  }),
  scope: Flags.string({
    summary: 'A scope and why the app needs it, as "scope=justification"; repeat for several. Replaces the whole list.',
    multiple: true,
    multipleNonGreedy: true,
    helpGroup: 'FIELD',
    helpValue: '<scope=justification>',
  }),
  'privacy-policy-url': Flags.string({ summary: 'Privacy policy (https).', helpGroup: 'FIELD', helpValue: '<url>' }),
  'terms-url': Flags.string({ summary: 'Terms of use (https).', helpGroup: 'FIELD', helpValue: '<url>' }),
  'support-email': Flags.string({ summary: 'Support e-mail address.', helpGroup: 'FIELD', helpValue: '<email>' }),
  'support-url': Flags.string({ summary: 'Support page.', helpGroup: 'FIELD', helpValue: '<url>' }),
  'support-phone': Flags.string({ summary: 'Support phone number.', helpGroup: 'FIELD' }),
};

export interface AppFieldValues {
  file?: string | undefined;
  name?: string | undefined;
  category?: (typeof appCategories)[number] | undefined;
  'short-description'?: string | undefined;
  'short-description-en'?: string | undefined;
  'long-description'?: string | undefined;
  'long-description-en'?: string | undefined;
  'website-url'?: string | undefined;
  'logo-url'?: string | undefined;
  'redirect-uri'?: string[] | undefined;
  scope?: string[] | undefined;
  'privacy-policy-url'?: string | undefined;
  'terms-url'?: string | undefined;
  'support-email'?: string | undefined;
  'support-url'?: string | undefined;
  'support-phone'?: string | undefined;
}

/**
 * Splits "scope=justification". Scopes may contain "=" (`…?category=vital-signs`) but never
 * spaces, so the scope ends at the last "=" before the first space.
 */
export function parseScopeFlag(value: string): ScopeRequest {
  const firstSpace = value.search(/\s/);
  const head = firstSpace === -1 ? value : value.slice(0, firstSpace);
  const split = head.lastIndexOf('=');
  const scope = value.slice(0, split).trim();
  const justification = value.slice(split + 1).trim();
  if (split <= 0 || !scope || !justification) throw new CodedError(messages.badScope(value), 'invalid_flag');
  return { scope, justification };
}

/** Reads the JSON object of --file (a path, or "-" for standard input). */
export async function readJsonObject(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = file === '-' ? await readStdinText() : await readFile(file, 'utf8');
  } catch (error) {
    throw new CodedError(messages.fileNotReadable(file, (error as Error).message), 'invalid_file');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CodedError(messages.fileNotJson(file), 'invalid_file');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CodedError(messages.fileNotObject(file), 'invalid_file');
  }
  return value as Record<string, unknown>;
}

function object(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Merges a text's French and English flags into the file's value of that field. */
function localized(current: unknown, fr: string | undefined, en: string | undefined): unknown {
  if (fr === undefined && en === undefined) return current;
  return { ...object(current), ...(fr !== undefined ? { fr } : {}), ...(en !== undefined ? { en } : {}) };
}

/**
 * The request body: the --file object with the field flags on top. The server validates the
 * result against the spec, so a missing or wrong field is reported with its JSON pointer.
 */
export async function appBody(values: AppFieldValues): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = values.file ? await readJsonObject(values.file) : {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) body[key] = value;
  };
  set('name', values.name);
  set('category', values.category);
  set('shortDescription', localized(body.shortDescription, values['short-description'], values['short-description-en']));
  set('longDescription', localized(body.longDescription, values['long-description'], values['long-description-en']));
  set('websiteUrl', values['website-url']);
  set('logoUrl', values['logo-url']);
  set('redirectUris', values['redirect-uri']);
  set('scopes', values.scope?.map(parseScopeFlag));
  set('privacyPolicyUrl', values['privacy-policy-url']);
  set('termsUrl', values['terms-url']);
  if (values['support-email'] !== undefined || values['support-url'] !== undefined || values['support-phone'] !== undefined) {
    body.supportContact = {
      ...object(body.supportContact),
      ...(values['support-email'] !== undefined ? { email: values['support-email'] } : {}),
      ...(values['support-url'] !== undefined ? { url: values['support-url'] } : {}),
      ...(values['support-phone'] !== undefined ? { phone: values['support-phone'] } : {}),
    };
  }
  return body;
}

export const asAppInput = (body: Record<string, unknown>) => body as unknown as AppInput;
export const asAppUpdate = (body: Record<string, unknown>) => body as unknown as AppUpdate;
