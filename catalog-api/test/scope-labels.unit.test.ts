// What patients read about a scope: every resource type and interaction has words, granular
// scopes say what they are limited to, and v1 spellings read like their v2 equivalents.
import { describe, expect, it } from 'vitest';
import { resourceTypes } from '../src/modules/oauth/index.js';
import { describeScopeString, permissionChoice } from '../src/web/scope-labels.js';

describe('scope descriptions for patients', () => {
  it.each([
    ['patient/Observation.rs', ['Lire vos mesures et résultats']],
    ['patient/Observation.read', ['Lire vos mesures et résultats']],
    ['patient/Observation.c', ['Ajouter des mesures']],
    ['patient/Observation.crs?category=vital-signs', ['Lire vos mesures et résultats (signes vitaux)', 'Ajouter des mesures (signes vitaux)']],
    ['patient/Observation.rs?category=laboratory', ['Lire vos mesures et résultats (résultats de laboratoire)']],
    ['patient/Observation.rs?code=http://loinc.org|29463-7', ['Lire vos mesures et résultats (code = http://loinc.org|29463-7)']],
    ['patient/DocumentReference.cruds', ['Lire vos documents', 'Ajouter des documents', 'Modifier vos documents', 'Supprimer vos documents']],
    ['patient/*.rs', ['Lire toutes vos données de santé']],
    ['launch/patient offline_access', ['Savoir pour quel patient l’application est utilisée', 'Garder l’accès sans vous le redemander, pour la durée que vous choisissez']],
    ['openid fhirUser', ['Connaître votre identité sur la plateforme']],
  ])('describes %s', (scope, lines) => {
    expect(describeScopeString(scope)).toEqual(lines);
  });

  it('has words for every resource type the platform offers', () => {
    for (const type of resourceTypes) {
      const [line] = describeScopeString(`patient/${type}.rs`);
      expect(line).toMatch(/^Lire /);
      expect(line, type).not.toContain(type);
    }
  });

  it('shows a scope it cannot read as it is, rather than nothing', () => {
    expect(describeScopeString('patient/Dragon.rs')).toEqual(['patient/Dragon.rs']);
  });

  it.each([
    ['patient/Observation.crs?category=vital-signs', ['Read your measurements and results (vital signs)', 'Add measurements (vital signs)']],
    ['patient/Immunization.rs', ['Read your vaccinations']],
    ['patient/DocumentReference.cud', ['Add documents', 'Change your documents', 'Delete your documents']],
    ['launch/patient offline_access', ['Know which patient the app is used for', 'Keep access without asking you again, for as long as you choose']],
  ])('describes %s in English', (scope, lines) => {
    expect(describeScopeString(scope, 'en')).toEqual(lines);
  });

  it('has English words for every resource type too', () => {
    for (const type of resourceTypes) {
      const [line] = describeScopeString(`patient/${type}.rs`, 'en');
      expect(line).toMatch(/^Read your /);
      expect(line, type).not.toContain(type);
    }
  });
});

describe('a guardian’s grant for a child', () => {
  it.each([
    ['patient/Immunization.rs', 'Juliette', ['Lire les vaccinations de Juliette']],
    ['patient/Patient.rs', 'Juliette', ['Lire l’identité et les coordonnées de Juliette']],
    ['patient/*.rs', 'Inès', ['Lire toutes les données de santé d’Inès']],
    ['patient/Observation.crs?category=vital-signs', 'Hugo', ['Lire les mesures et résultats d’Hugo (signes vitaux)', 'Ajouter des mesures au dossier d’Hugo (signes vitaux)']],
    ['patient/Condition.rs', 'Léo', ['Lire les antécédents et problèmes de santé de Léo']],
  ])('names the child: %s for %s', (scope, child, lines) => {
    expect(describeScopeString(scope, 'fr', { forWhom: child })).toEqual(lines);
  });

  it('names the child in English too, and never says "your" of the child’s record', () => {
    expect(describeScopeString('patient/Immunization.rs patient/DocumentReference.c', 'en', { forWhom: 'Juliette' }).toSorted()).toEqual([
      'Add documents to Juliette’s record',
      'Read Juliette’s vaccinations',
    ]);
    for (const type of resourceTypes) {
      expect(describeScopeString(`patient/${type}.rs`, 'fr', { forWhom: 'Juliette' }).join(' '), type).not.toMatch(/\bvos\b|\bvotre\b/);
      expect(describeScopeString(`patient/${type}.rs`, 'en', { forWhom: 'Juliette' }).join(' '), type).not.toMatch(/\byour\b/);
    }
  });

  it('leaves out the duration where the access’s end is shown beside it', () => {
    expect(describeScopeString('launch/patient offline_access patient/Immunization.rs', 'fr', { withoutDuration: true })).toEqual([
      'Savoir pour quel patient l’application est utilisée',
      'Lire vos vaccinations',
    ]);
  });
});

describe('how a patient decides on each permission (the catalogue and the consent screen alike)', () => {
  it.each([
    ['patient/Immunization.rs', false, 'optional'],
    ['patient/Immunization.rs', true, 'required'],
    ['offline_access', false, 'duration'],
    ['launch/patient', false, 'always'],
    ['launch/patient', true, 'required'],
    ['openid', false, 'always'],
  ] as const)('%s (required: %s) is %s', (scope, required, choice) => {
    expect(permissionChoice(scope, required)).toBe(choice);
  });
});
