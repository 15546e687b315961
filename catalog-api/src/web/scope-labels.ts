// What a scope lets an app do, in words a patient understands, in French (the default) or
// English: "Lire vos mesures (signes vitaux)", "Ajouter des documents". Built from the parsed
// scope, so every scope the platform grants has a description; an unknown search parameter is
// shown as is.
import { parseScopeString, type ResourceScope, type ScopeSet } from '../modules/oauth/index.js';
import type { Lang } from './i18n.js';

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
    offline_access: 'Garder l’accès sans vous le redemander, jusqu’à ce que vous le retiriez',
    openid: 'Connaître votre identité sur la plateforme',
    fhirUser: 'Connaître votre identité sur la plateforme',
  },
  en: {
    launch: 'Be opened from your health space, for the record you choose',
    'launch/patient': 'Know which patient the app is used for',
    offline_access: 'Keep access without asking you again, until you withdraw it',
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

/** The actions a resource scope allows, each as a sentence: read and search together as "Lire". */
export function describeResourceScope(scope: ResourceScope, lang: Lang = 'fr'): string[] {
  const thing = things[lang][scope.resourceType] ?? { yours: scope.resourceType, some: scope.resourceType };
  const verb = verbs[lang];
  const suffix = qualifier(scope, lang);
  const actions: string[] = [];
  if (/[rs]/.test(scope.interactions)) actions.push(`${verb.read} ${thing.yours}${suffix}`);
  if (scope.interactions.includes('c')) actions.push(`${verb.create} ${thing.some}${suffix}`);
  if (scope.interactions.includes('u')) actions.push(`${verb.update} ${thing.yours}${suffix}`);
  if (scope.interactions.includes('d')) actions.push(`${verb.delete} ${thing.yours}${suffix}`);
  return actions;
}

/** What a context scope (launch, launch/patient, offline_access, openid, fhirUser) means, in words. */
export const describeContextScope = (scope: string, lang: Lang = 'fr'): string => contextLabels[lang][scope] ?? scope;

/** Every permission of a scope set, in plain words, without repeats. */
export function describeScopes(set: ScopeSet, lang: Lang = 'fr'): string[] {
  const lines = [...set.context.map((scope) => describeContextScope(scope, lang)), ...set.resources.flatMap((scope) => describeResourceScope(scope, lang))];
  return [...new Set(lines)];
}

/** Same, from a scope string as stored with a grant. */
export function describeScopeString(scope: string, lang: Lang = 'fr'): string[] {
  const parsed = parseScopeString(scope, { purpose: 'any' });
  return parsed.ok ? describeScopes(parsed.scopes, lang) : [scope];
}
