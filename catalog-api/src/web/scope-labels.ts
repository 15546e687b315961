// What a scope lets an app do, in words a patient understands, in French (the default) or
// English: "Lire vos mesures (signes vitaux)", "Ajouter des documents". Built from the parsed
// scope, so every scope the platform grants has a description; an unknown search parameter is
// shown as is.
import { parseScope, parseScopeString, type ResourceScope, type ScopeSet } from '../modules/oauth/index.js';
import { deName, type Lang } from './i18n.js';

type Words = { yours: string; some: string };

const things: Record<Lang, Record<string, Words>> = {
  fr: {
    Patient: { yours: 'votre identité et vos coordonnées', some: 'votre identité et vos coordonnées' },
    DocumentReference: { yours: 'vos documents', some: 'des documents' },
    AllergyIntolerance: { yours: 'vos allergies', some: 'des allergies' },
    Immunization: { yours: 'vos vaccinations', some: 'des vaccinations' },
    MedicationStatement: { yours: 'vos traitements', some: 'des traitements' },
    Condition: { yours: 'vos antécédents et problèmes de santé', some: 'des antécédents' },
    Observation: { yours: 'vos mesures et résultats', some: 'des mesures' },
    Appointment: { yours: 'vos rendez-vous', some: 'des rendez-vous' },
    Communication: { yours: 'vos messages avec son équipe de soins', some: 'des messages' },
    '*': { yours: 'toutes vos données de santé', some: 'des données de santé' },
  },
  en: {
    Patient: { yours: 'your identity and contact details', some: 'your identity and contact details' },
    DocumentReference: { yours: 'your documents', some: 'documents' },
    AllergyIntolerance: { yours: 'your allergies', some: 'allergies' },
    Immunization: { yours: 'your vaccinations', some: 'vaccinations' },
    MedicationStatement: { yours: 'your treatments', some: 'treatments' },
    Condition: { yours: 'your medical history and health problems', some: 'medical history' },
    Observation: { yours: 'your measurements and results', some: 'measurements' },
    Appointment: { yours: 'your appointments', some: 'appointments' },
    Communication: { yours: 'your messages with its care team', some: 'messages' },
    '*': { yours: 'all your health data', some: 'health data' },
  },
};

const categories: Record<Lang, Record<string, string>> = {
  fr: {
    'vital-signs': 'signes vitaux',
    laboratory: 'résultats de laboratoire',
    'social-history': 'mode de vie',
    imaging: 'imagerie',
    activity: 'activité physique',
  },
  en: {
    'vital-signs': 'vital signs',
    laboratory: 'laboratory results',
    'social-history': 'lifestyle',
    imaging: 'imaging',
    activity: 'physical activity',
  },
};

const contextLabels: Record<Lang, Record<string, string>> = {
  fr: {
    launch: 'Être ouverte depuis votre espace santé, pour le dossier que vous choisissez',
    'launch/patient': 'Savoir pour quel patient l’application est utilisée',
    offline_access: 'Garder l’accès sans vous le redemander, pour la durée que vous choisissez',
    openid: 'Connaître votre identité sur la plateforme',
    fhirUser: 'Connaître votre identité sur la plateforme',
  },
  en: {
    launch: 'Be opened from your health space, for the record you choose',
    'launch/patient': 'Know which patient the app is used for',
    offline_access: 'Keep access without asking you again, for as long as you choose',
    openid: 'Know your identity on the platform',
    fhirUser: 'Know your identity on the platform',
  },
};

const verbs: Record<Lang, { read: string; create: string; update: string; delete: string }> = {
  fr: { read: 'Lire', create: 'Ajouter', update: 'Modifier', delete: 'Supprimer' },
  en: { read: 'Read', create: 'Add', update: 'Change', delete: 'Delete' },
};

function qualifier(scope: ResourceScope, lang: Lang): string {
  if (scope.parameters.length === 0) return '';
  const parts = scope.parameters.map(([name, value]) => (name === 'category' && categories[lang][value] ? categories[lang][value] : `${name} = ${value}`));
  return ` (${parts.join(', ')})`;
}

/**
 * "vos vaccinations" said of someone else: "les vaccinations de Juliette", "Juliette’s
 * vaccinations"; of whoever is chosen on the page (name ''): "les vaccinations", "the vaccinations".
 */
function theirs(lang: Lang, yours: string, name: string): string {
  if (lang === 'en') return yours.replace(/\byour\b/g, name ? `${name}’s` : 'the');
  const the = yours.replace(/\bvos\b/g, 'les').replace(/\bvotre /g, 'l’');
  return name ? `${the} ${deName(name)}` : the;
}

/**
 * The actions a resource scope allows, each as a sentence: read and search together as "Lire".
 * With `forWhom`, the record is someone else's (a guardian's grant for a child): "Lire les
 * vaccinations de Juliette", "Ajouter des mesures au dossier de Juliette"; '' when it is the one
 * chosen on the page (a guardian's consent screen): "Lire les vaccinations".
 */
export function describeResourceScope(scope: ResourceScope, lang: Lang = 'fr', forWhom?: string): string[] {
  const thing = things[lang][scope.resourceType] ?? { yours: scope.resourceType, some: scope.resourceType };
  const verb = verbs[lang];
  const suffix = qualifier(scope, lang);
  const own = forWhom === undefined ? thing.yours : theirs(lang, thing.yours, forWhom);
  const some = forWhom ? (lang === 'fr' ? `${thing.some} au dossier ${deName(forWhom)}` : `${thing.some} to ${forWhom}’s record`) : thing.some;
  const actions: string[] = [];
  if (/[rs]/.test(scope.interactions)) actions.push(`${verb.read} ${own}${suffix}`);
  if (scope.interactions.includes('c')) actions.push(`${verb.create} ${some}${suffix}`);
  if (scope.interactions.includes('u')) actions.push(`${verb.update} ${own}${suffix}`);
  if (scope.interactions.includes('d')) actions.push(`${verb.delete} ${own}${suffix}`);
  return actions;
}

/** What a context scope (launch, launch/patient, offline_access, openid, fhirUser) means, in words. */
export const describeContextScope = (scope: string, lang: Lang = 'fr'): string => contextLabels[lang][scope] ?? scope;

export interface DescribeOptions {
  /** The record is this person's, not the reader's (a guardian's grant for a child). */
  forWhom?: string | undefined;
  /** Leave out `offline_access` (where the access's end date is shown beside it). */
  withoutDuration?: boolean;
}

/** Every permission of a scope set, in plain words, without repeats. */
export function describeScopes(set: ScopeSet, lang: Lang = 'fr', options: DescribeOptions = {}): string[] {
  const context = options.withoutDuration ? set.context.filter((scope) => scope !== 'offline_access') : set.context;
  const lines = [...context.map((scope) => describeContextScope(scope, lang)), ...set.resources.flatMap((scope) => describeResourceScope(scope, lang, options.forWhom))];
  return [...new Set(lines)];
}

/** Same, from a scope string as stored with a grant. */
export function describeScopeString(scope: string, lang: Lang = 'fr', options: DescribeOptions = {}): string[] {
  const parsed = parseScopeString(scope, { purpose: 'any' });
  return parsed.ok ? describeScopes(parsed.scopes, lang, options) : [scope];
}

/**
 * How the patient decides on a permission an app asks for, the same on the catalogue and on the
 * consent screen: a resource scope is ticked or unticked (unless the publisher marked it
 * required); `offline_access` follows the duration the patient chooses (none for a one-time
 * access); the other context scopes (launch, launch/patient, openid, fhirUser) come with any
 * access and are not refused one by one.
 */
export type PermissionChoice = 'required' | 'optional' | 'duration' | 'always';

export function permissionChoice(scope: string, required: boolean): PermissionChoice {
  const parsed = parseScope(scope);
  if (parsed.ok && parsed.scope.kind === 'resource') return required ? 'required' : 'optional';
  if (scope === 'offline_access') return 'duration';
  return required ? 'required' : 'always';
}
