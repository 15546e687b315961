// What a scope lets an app do, in words a patient understands (French), for the patient pages:
// "Lire vos mesures (signes vitaux)", "Ajouter des documents". Built from the parsed scope, so
// every scope the platform grants has a description; an unknown search parameter is shown as is.
import { parseScopeString, type ResourceScope, type ScopeSet } from '../modules/oauth/index.js';

const things: Record<string, { yours: string; some: string }> = {
  Patient: { yours: 'votre identité et vos coordonnées', some: 'votre identité et vos coordonnées' },
  DocumentReference: { yours: 'vos documents', some: 'des documents' },
  AllergyIntolerance: { yours: 'vos allergies', some: 'des allergies' },
  Immunization: { yours: 'vos vaccinations', some: 'des vaccinations' },
  MedicationStatement: { yours: 'vos traitements', some: 'des traitements' },
  Condition: { yours: 'vos antécédents et problèmes de santé', some: 'des antécédents' },
  Observation: { yours: 'vos mesures et résultats', some: 'des mesures' },
  Appointment: { yours: 'vos rendez-vous', some: 'des rendez-vous' },
  '*': { yours: 'toutes vos données de santé', some: 'des données de santé' },
};

const categories: Record<string, string> = {
  'vital-signs': 'signes vitaux',
  laboratory: 'résultats de laboratoire',
  'social-history': 'mode de vie',
  imaging: 'imagerie',
  activity: 'activité physique',
};

const contextLabels: Record<string, string> = {
  'launch/patient': 'Savoir pour quel patient l’application est utilisée',
  offline_access: 'Garder l’accès sans vous le redemander, jusqu’à ce que vous le retiriez',
  openid: 'Connaître votre identité sur la plateforme',
  fhirUser: 'Connaître votre identité sur la plateforme',
};

function qualifier(scope: ResourceScope): string {
  if (scope.parameters.length === 0) return '';
  const parts = scope.parameters.map(([name, value]) => (name === 'category' && categories[value] ? categories[value] : `${name} = ${value}`));
  return ` (${parts.join(', ')})`;
}

/** The actions a resource scope allows, each as a sentence: read and search together as "Lire". */
export function describeResourceScope(scope: ResourceScope): string[] {
  const thing = things[scope.resourceType] ?? { yours: scope.resourceType, some: scope.resourceType };
  const suffix = qualifier(scope);
  const actions: string[] = [];
  if (/[rs]/.test(scope.interactions)) actions.push(`Lire ${thing.yours}${suffix}`);
  if (scope.interactions.includes('c')) actions.push(`Ajouter ${thing.some}${suffix}`);
  if (scope.interactions.includes('u')) actions.push(`Modifier ${thing.yours}${suffix}`);
  if (scope.interactions.includes('d')) actions.push(`Supprimer ${thing.yours}${suffix}`);
  return actions;
}

/** Every permission of a scope set, in plain French, without repeats. */
export function describeScopes(set: ScopeSet): string[] {
  const lines = [...set.context.map((scope) => contextLabels[scope] ?? scope), ...set.resources.flatMap(describeResourceScope)];
  return [...new Set(lines)];
}

/** Same, from a scope string as stored with a grant. */
export function describeScopeString(scope: string): string[] {
  const parsed = parseScopeString(scope, { purpose: 'any' });
  return parsed.ok ? describeScopes(parsed.scopes) : [scope];
}
