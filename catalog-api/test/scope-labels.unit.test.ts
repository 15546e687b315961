// What patients read about a scope: every resource type and interaction has words, granular
// scopes say what they are limited to, and v1 spellings read like their v2 equivalents.
import { describe, expect, it } from 'vitest';
import { resourceTypes } from '../src/modules/oauth/index.js';
import { describeScopeString } from '../src/web/scope-labels.js';

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
    ['launch/patient offline_access', ['Savoir pour quel patient l’application est utilisée', 'Garder l’accès sans vous le redemander, jusqu’à ce que vous le retiriez']],
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
    ['launch/patient offline_access', ['Know which patient the app is used for', 'Keep access without asking you again, until you withdraw it']],
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
