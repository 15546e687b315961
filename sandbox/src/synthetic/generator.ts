// The sandbox's synthetic population: households of French patients with their whole records,
// drawn from a seed so that the same options always give the same resources, byte for byte.
import { createHash } from 'node:crypto';
import { records } from '@mes/catalog-api';
import { addMinutes, addYears, ageOn, civil, formatDay, frenchDate, isoInstant, parseDay, toDate, type Day, type Instant } from './calendar.js';
import { syntheticNir } from './ins.js';
import { familyNames, femaleNames, givenNamesFor, maleNames, streets, towns, type Town } from './names.js';
import { minimalPdf } from './pdf.js';
import { Random } from './random.js';
import { vaccinationDoses } from './vaccination.js';

const { systems, measurements, laboratoryResults, documentTypes, vaccines, conditions, allergies, medications } = records.vocabulary;

type NewResource = records.NewResource;
type FhirResource = records.FhirResource;
type Resource<T extends FhirResource['resourceType']> = Extract<FhirResource, { resourceType: T }>;
type Patient = Resource<'Patient'>;
type Observation = Resource<'Observation'>;
type CodeableConcept = Observation['code'];
type Reference = NonNullable<Observation['subject']>;
type HumanName = NonNullable<Patient['name']>[number];
type ContactPoint = NonNullable<Patient['telecom']>[number];
type Gender = 'female' | 'male';

/**
 * Changes whenever the same options would give other resources (a new field, another
 * distribution): a store seeded by an older generator is then told apart from a current one.
 */
export const GENERATOR_VERSION = 2;

/** The sandbox's "today" unless told otherwise: every record is complete up to the day before. */
export const DEFAULT_REFERENCE_DATE = '2026-11-30';
/** HL7 v3 RoleCode: how a child's contact is related to them (MTH mother, FTH father). */
export const ROLE_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';

export interface PopulationOptions {
  seed: string;
  /** Exactly this many Patient resources are generated. */
  patients: number;
  /** `YYYY-MM-DD`; default DEFAULT_REFERENCE_DATE. */
  referenceDate?: string;
}

export interface Guardianship {
  guardianId: string;
  childId: string;
  relationship: 'MTH' | 'FTH' | 'GUARD';
  /** The child's 18th birthday (`YYYY-MM-DD`). */
  validUntil: string | null;
}

/** One household: its members' resources, in member order, and the parents' guardianships. */
export interface Household {
  resources: NewResource[];
  guardianships: Guardianship[];
}

/** The id of the n-th generated patient (1-based); sandbox-patient-1 is the default test patient. */
export const patientId = (n: number): string => `sandbox-patient-${n}`;

// ---------------------------------------------------------------------------------------------
// Households and people

interface Member {
  gender: Gender;
  birth: Day;
  given: string[];
  family: string;
  child: boolean;
}

interface Person extends Member {
  serial: number;
  id: string;
  nir: string;
  guardians: Person[];
  phone: string | null;
  email: string | null;
}

interface HouseholdPlan {
  members: Member[];
  town: Town;
  line: string[];
  /** The household's GP (médecin traitant), who signs most of its documents. */
  doctor: string;
  showcase: boolean;
}

/** Ages of adults who live without children, weighted like the French adult population. */
const adultAges: readonly (readonly [readonly [number, number], number])[] = [
  [[18, 29], 15],
  [[30, 44], 15],
  [[45, 59], 22],
  [[60, 74], 28],
  [[75, 89], 16],
  [[90, 99], 4],
];

/** A birth day for someone aged `minAge` to `maxAge` (whole years) on `reference`. */
function birthForAge(rng: Random, reference: Day, [minAge, maxAge]: readonly [number, number]): Day {
  return rng.int(addYears(reference, -(maxAge + 1)) + 1, Math.min(addYears(reference, -minAge), reference - 1));
}

/** Keeps an adult's birth day between 18 and 99 years before the reference day. */
function clampAdult(birth: Day, reference: Day): Day {
  return Math.min(Math.max(birth, addYears(reference, -100) + 1), addYears(reference, -18));
}

function givenNames(rng: Random, gender: Gender, birth: Day): string[] {
  const pool = givenNamesFor(gender === 'female' ? femaleNames : maleNames, civil(birth).year);
  const first = rng.pick(pool);
  if (!rng.chance(0.3)) return [first];
  const second = rng.pick(pool);
  return second === first ? [first] : [first, second];
}

function member(rng: Random, gender: Gender, birth: Day, family: string, child: boolean): Member {
  return { gender, birth, given: givenNames(rng, gender, birth), family, child };
}

const otherGender = (gender: Gender): Gender => (gender === 'female' ? 'male' : 'female');

function doctorName(rng: Random): string {
  const names = rng.chance(0.5) ? femaleNames : maleNames;
  return `Dr ${rng.pick(rng.chance(0.5) ? names.from1960 : names.from1990)} ${rng.pick(familyNames)}`;
}

function address(rng: Random): { town: Town; line: string[] } {
  const line = [`${rng.int(1, 140)} ${rng.pick(streets)}`];
  if (rng.chance(0.15)) line.push(`Bâtiment ${rng.pick(['A', 'B', 'C', 'D'])}, appartement ${rng.int(1, 60)}`);
  return { town: rng.pick(towns), line };
}

/** The two partners' genders, the mother first in a mixed couple. */
function coupleGenders(rng: Random): [Gender, Gender] {
  const kind = rng.weighted([['mixed', 94], ['women', 3], ['men', 3]] as const);
  return kind === 'mixed' ? ['female', 'male'] : kind === 'women' ? ['female', 'female'] : ['male', 'male'];
}

/** Children's birth days, eldest first; sometimes the eldest turns 18 within 60 days of the reference day. */
function childBirths(rng: Random, reference: Day, count: number): Day[] {
  const comingOfAge = addYears(reference, -18);
  let birth = rng.chance(0.12) ? comingOfAge + rng.int(1, 60) : rng.int(comingOfAge + 1, reference - 1);
  const births = [birth];
  while (births.length < count) {
    birth += rng.int(565, 5 * 365);
    if (birth >= reference) break;
    births.push(birth);
  }
  return births;
}

function planHousehold(rng: Random, reference: Day): HouseholdPlan {
  const kind = rng.weighted([['single', 36], ['couple', 34], ['family', 21], ['single-parent', 9]] as const);
  const family = rng.pick(familyNames);
  const partnerFamily = () => (rng.chance(0.6) ? family : rng.pick(familyNames));
  const members: Member[] = [];
  if (kind === 'single') {
    members.push(member(rng, rng.chance(0.52) ? 'female' : 'male', birthForAge(rng, reference, rng.weighted(adultAges)), family, false));
  } else if (kind === 'couple') {
    const [first, second] = coupleGenders(rng);
    const birth = birthForAge(rng, reference, rng.weighted(adultAges));
    members.push(member(rng, first, birth, second === 'male' ? partnerFamily() : family, false));
    members.push(member(rng, second, clampAdult(birth - rng.int(-3 * 365, 6 * 365), reference), second === 'male' ? family : partnerFamily(), false));
  } else {
    const births = childBirths(rng, reference, rng.weighted([[1, 40], [2, 42], [3, 18]] as const));
    const eldest = births[0]!;
    const parent = eldest - rng.int(22 * 365, 40 * 365);
    if (kind === 'family') {
      const [first, second] = coupleGenders(rng);
      members.push(member(rng, first, parent, second === 'male' ? partnerFamily() : family, false));
      const partner = Math.min(clampAdult(parent - rng.int(-3 * 365, 6 * 365), reference), addYears(eldest, -18));
      members.push(member(rng, second, partner, second === 'male' ? family : partnerFamily(), false));
    } else {
      members.push(member(rng, rng.chance(0.82) ? 'female' : 'male', parent, family, false));
    }
    for (const birth of births) members.push(member(rng, rng.chance(0.49) ? 'female' : 'male', birth, family, true));
  }
  return { members, ...address(rng), doctor: doctorName(rng), showcase: false };
}

/**
 * The first household: sandbox-patient-1, a woman of 47 with a rich record (the default test
 * patient), her partner, a child who turns 18 within 60 days and a child of 8.
 */
function planShowcase(rng: Random, reference: Day): HouseholdPlan {
  const family = rng.pick(familyNames);
  const mother = addYears(reference, -47) - rng.int(30, 300);
  const father = clampAdult(mother - rng.int(300, 900), reference);
  const eldest = addYears(reference, -18) + rng.int(10, 50);
  const youngest = addYears(reference, -8) - rng.int(0, 300);
  const gender = () => (rng.chance(0.5) ? 'female' : 'male');
  return {
    members: [
      member(rng, 'female', mother, family, false),
      member(rng, 'male', father, family, false),
      member(rng, gender(), eldest, family, true),
      member(rng, gender(), youngest, family, true),
    ],
    ...address(rng),
    doctor: doctorName(rng),
    showcase: true,
  };
}

/** Lower-case ASCII of a name, for a fake e-mail address. */
function asciiSlug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

const pad2 = (value: number) => String(value).padStart(2, '0');

function person(rng: Random, plan: Member, serial: number, reference: Day): Person {
  const age = ageOn(plan.birth, reference);
  // 06 39 98 xx xx: mobile numbers ARCEP reserves for fiction; e-mails under the reserved .test domain.
  const phone = age >= 15 && rng.chance(age >= 18 ? 0.85 : 0.5) ? `06 39 98 ${pad2(rng.int(0, 99))} ${pad2(rng.int(0, 99))}` : null;
  const email = age >= 18 && rng.chance(0.7) ? `${asciiSlug(plan.given[0]!)}.${asciiSlug(plan.family)}.${serial}@exemple.test` : null;
  return { ...plan, serial, id: patientId(serial), nir: syntheticNir(plan.gender, plan.birth, serial), guardians: [], phone, email };
}

const officialName = (who: Member): HumanName => ({ use: 'official', family: who.family, given: who.given });
const fullName = (who: Member) => `${who.given.join(' ')} ${who.family}`;
const relationshipOf = (guardian: Person): 'MTH' | 'FTH' => (guardian.gender === 'female' ? 'MTH' : 'FTH');

function patientResource(who: Person, plan: HouseholdPlan): Patient {
  const telecom: ContactPoint[] = [];
  if (who.phone) telecom.push({ system: 'phone', value: who.phone, use: 'mobile' });
  if (who.email) telecom.push({ system: 'email', value: who.email, use: 'home' });
  return {
    resourceType: 'Patient',
    identifier: [{ use: 'official', system: systems.ins, value: who.nir }],
    active: true,
    name: [officialName(who)],
    ...(telecom.length ? { telecom } : {}),
    gender: who.gender,
    birthDate: formatDay(who.birth),
    address: [{ use: 'home', line: plan.line, city: plan.town.city, postalCode: plan.town.postalCode, country: 'FR' }],
    ...(who.guardians.length
      ? {
          contact: who.guardians.map((guardian) => ({
            relationship: [{ coding: [{ system: ROLE_CODE_SYSTEM, code: relationshipOf(guardian), display: guardian.gender === 'female' ? 'mère' : 'père' }] }],
            name: officialName(guardian),
            ...(guardian.phone ? { telecom: [{ system: 'phone' as const, value: guardian.phone, use: 'mobile' as const }] } : {}),
          })),
        }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Records

type ShortType = 'obs' | 'imm' | 'cond' | 'med' | 'allergy' | 'appt' | 'doc' | 'msg';

/** One patient's resources as they are made, with ids `<patientId>-<short type>-<n>`. */
class RecordBuilder {
  readonly resources: NewResource[] = [];
  readonly subject: Reference;
  readonly #counts = new Map<ShortType, number>();

  constructor(readonly who: Person) {
    this.subject = { reference: `Patient/${who.id}` };
  }

  /** `updated` is the resource's latest clinical date: its deterministic `lastUpdated`. */
  add(type: ShortType, resource: FhirResource, updated: Instant): void {
    const n = (this.#counts.get(type) ?? 0) + 1;
    this.#counts.set(type, n);
    this.resources.push({ patientId: this.who.id, id: `${this.who.id}-${type}-${n}`, resource, lastUpdated: toDate(updated) });
  }
}

const coding = (system: string, code: string, display: string) => ({ system, code, display });
const concept = (system: string, code: string, display: string): CodeableConcept => ({ coding: [coding(system, code, display)] });
const categoryLabels = { 'vital-signs': 'Signes vitaux', laboratory: 'Laboratoire', activity: 'Activité' } as const;
const observationCategory = (code: keyof typeof categoryLabels) => concept(systems.observationCategory, code, categoryLabels[code]);
const quantity = (value: number, unit: { code: string; display: string }) => ({ value, unit: unit.display, system: systems.ucum, code: unit.code });
const round = (value: number, decimals: number) => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};
const clamp = (value: number, min: number, max: number) => Math.min(Math.max(value, min), max);
/** An instant on `day` between two times of day (minutes, UTC). */
const at = (rng: Random, day: Day, from: number, to: number): Instant => ({ day, minute: rng.int(from, to) });
const latest = (a: Day, b: Day) => Math.max(a, b);

interface ConditionPlan {
  code: string;
  onset: Day;
  recorded: Day;
  abated: Day | null;
}

interface MedicationPlan {
  atc: string;
  reason: string;
  start: Day;
  asserted: Day;
  end: Day | null;
}

interface LabResult {
  loinc: string;
  value: number;
  day: Day;
}

/** What the documents say about the patient: the record's facts, as the other sections drew them. */
interface Facts {
  conditions: ConditionPlan[];
  medications: MedicationPlan[];
  allergies: string[];
  labs: LabResult[];
  visits: { at: Instant; doctor: string; description: string }[];
}

/** Customisations of the showcase patient (sandbox-patient-1). */
interface Profile {
  conditions: string[];
  allergy: string | null;
  documents: string[] | null;
  steps: boolean;
  labs: boolean;
  vaccinated: boolean;
  appointments: Service[];
  /** Always an exchange with the care team after the last visit (else for some patients). */
  messages: boolean;
}

const ordinary: Profile = { conditions: [], allergy: null, documents: null, steps: false, labs: false, vaccinated: false, appointments: [], messages: false };

/**
 * Prevalence of each condition by age and sex (roughly the French figures), and the youngest age
 * it starts at. Obesity comes first: it makes type 2 diabetes more likely.
 */
const prevalence: readonly { code: string; minAge: number; rate: (age: number, gender: Gender) => number }[] = [
  { code: 'E66', minAge: 6, rate: (age) => (age < 18 ? 0.04 : 0.15) },
  { code: 'I10', minAge: 25, rate: (age) => (age < 30 ? 0.01 : age < 40 ? 0.04 : age < 50 ? 0.12 : age < 65 ? 0.3 : 0.5) },
  { code: 'E11', minAge: 30, rate: (age) => (age < 40 ? 0.01 : age < 50 ? 0.04 : age < 65 ? 0.09 : 0.15) },
  { code: 'E78', minAge: 30, rate: (age) => (age < 40 ? 0.03 : age < 50 ? 0.1 : age < 65 ? 0.2 : 0.28) },
  { code: 'J45', minAge: 2, rate: (age) => (age < 18 ? 0.1 : 0.06) },
  { code: 'J30', minAge: 3, rate: () => 0.14 },
  { code: 'E03', minAge: 18, rate: (age, gender) => (gender === 'female' ? 0.06 : 0.015) * (age >= 60 ? 1.5 : 1) },
  { code: 'F32', minAge: 15, rate: () => 0.05 },
  { code: 'K21', minAge: 18, rate: () => 0.08 },
  { code: 'G43', minAge: 10, rate: (_age, gender) => (gender === 'female' ? 0.12 : 0.05) },
];

/** How likely each condition is treated with its first medicine. */
const treatedRate: Record<string, number> = { I10: 0.9, E11: 0.95, E78: 0.75, J45: 0.9, E03: 0.98, F32: 0.8, K21: 0.7, G43: 0.8, J30: 0.8 };

function planConditions(rng: Random, who: Person, reference: Day, profile: Profile): ConditionPlan[] {
  const age = ageOn(who.birth, reference);
  const plans: ConditionPlan[] = [];
  const has = (code: string) => plans.some((plan) => plan.code === code);
  for (const { code, minAge, rate } of prevalence) {
    const boost = code === 'E11' && has('E66') ? 2.5 : 1;
    const drawn = rng.chance(rate(age, who.gender) * boost);
    if (!profile.conditions.includes(code) && (age < minAge || !drawn)) continue;
    const earliest = latest(addYears(who.birth, minAge), reference - 25 * 365);
    const lastOnset = reference - 45;
    if (earliest > lastOnset) continue;
    const onset = rng.int(earliest, lastOnset);
    const recorded = Math.min(onset + rng.int(0, 40), reference - 1);
    // Depressive episodes often resolve; the other conditions here are chronic.
    const abatedDay = code === 'F32' && rng.chance(0.35) ? recorded + rng.int(120, 500) : null;
    plans.push({ code, onset, recorded, abated: abatedDay !== null && abatedDay < reference - 30 ? abatedDay : null });
  }
  return plans;
}

function conditionsAndTreatments(record: RecordBuilder, rng: Random, plans: ConditionPlan[], reference: Day): MedicationPlan[] {
  const treatments: MedicationPlan[] = [];
  for (const plan of plans) {
    const kind = conditions[plan.code]!;
    const resolved = plan.abated !== null;
    const updated = at(rng, plan.abated ?? plan.recorded, 480, 1080);
    record.add(
      'cond',
      {
        resourceType: 'Condition',
        clinicalStatus: concept(systems.conditionClinical, resolved ? 'resolved' : 'active', resolved ? 'Résolue' : 'Active'),
        verificationStatus: concept(systems.conditionVerification, 'confirmed', 'Confirmée'),
        category: [concept(systems.conditionCategory, 'problem-list-item', 'Liste des problèmes')],
        code: concept(systems.icd10, kind.icd10, kind.display),
        subject: record.subject,
        onsetDateTime: isoInstant({ day: plan.onset, minute: 0 }),
        ...(plan.abated !== null ? { abatementDateTime: isoInstant({ day: plan.abated, minute: 0 }) } : {}),
        recordedDate: isoInstant({ day: plan.recorded, minute: updated.minute }),
      },
      updated,
    );
    (kind.medications ?? []).forEach((atc, i) => {
      const treated = i === 0 ? rng.chance(treatedRate[plan.code] ?? 0.8) : rng.chance(0.3) || !treatments.some((t) => t.reason === plan.code);
      if (!treated) return;
      const start = Math.min(plan.recorded + rng.int(0, 21), reference - 1);
      const end = plan.abated;
      const asserted = end ?? latest(start, reference - rng.int(1, 90));
      treatments.push({ atc, reason: plan.code, start, asserted, end });
    });
  }
  for (const treatment of treatments) {
    const medicine = medications[treatment.atc]!;
    const reason = conditions[treatment.reason]!;
    const asserted = at(rng, treatment.asserted, 480, 1080);
    record.add(
      'med',
      {
        resourceType: 'MedicationStatement',
        status: treatment.end !== null ? 'completed' : 'active',
        medicationCodeableConcept: concept(systems.atc, treatment.atc, medicine.display),
        subject: record.subject,
        effectivePeriod: { start: isoInstant({ day: treatment.start, minute: 0 }), ...(treatment.end !== null ? { end: isoInstant({ day: treatment.end, minute: 0 }) } : {}) },
        dateAsserted: isoInstant(asserted),
        reasonCode: [concept(systems.icd10, reason.icd10, reason.display)],
        dosage: [{ text: medicine.dosage }],
      },
      asserted,
    );
  }
  return treatments;
}

function vaccinations(record: RecordBuilder, rng: Random, reference: Day, assured: boolean): void {
  const lots = rng.fork('lots');
  for (const dose of vaccinationDoses(rng, record.who.birth, record.who.gender, reference, assured)) {
    const vaccine = vaccines[dose.atc]!;
    const when: Instant = { day: dose.day, minute: 480 + 15 * lots.int(0, 38) };
    const letters = String.fromCharCode(65 + lots.int(0, 25), 65 + lots.int(0, 25));
    record.add(
      'imm',
      {
        resourceType: 'Immunization',
        status: 'completed',
        vaccineCode: concept(systems.atc, vaccine.atc, vaccine.display),
        patient: record.subject,
        occurrenceDateTime: isoInstant(when),
        primarySource: true,
        lotNumber: `${letters}${lots.int(1000, 9999)}`,
        protocolApplied: [{ targetDisease: vaccine.targets.map((text) => ({ text })), doseNumberPositiveInt: dose.dose }],
      },
      when,
    );
  }
}

function measurement(record: RecordBuilder, loinc: string, when: Instant, values: readonly number[]): void {
  const device = measurements[loinc];
  const kind = device ?? laboratoryResults[loinc];
  if (!kind) throw new Error(`no measurement ${loinc} in the vocabulary`);
  const category = device?.category ?? 'laboratory';
  const components = device?.components;
  const unit = kind.unit;
  const code = concept(systems.loinc, loinc, kind.display);
  // Home devices measure SpO2 by pulse oximetry: its narrower code comes beside the one the profile requires.
  if (device?.narrower) code.coding!.push(coding(systems.loinc, device.narrower.loinc, device.narrower.display));
  record.add(
    'obs',
    {
      resourceType: 'Observation',
      status: 'final',
      category: [observationCategory(category)],
      code,
      subject: record.subject,
      effectiveDateTime: isoInstant(when),
      ...(components
        ? { component: components.map((component, i) => ({ code: concept(systems.loinc, component.loinc, component.display), valueQuantity: quantity(values[i]!, unit) })) }
        : { valueQuantity: quantity(values[0]!, unit) }),
    },
    when,
  );
}

/** Median height (cm) by age 2–18, girls and boys; adults keep their height at 18. */
const medianHeight: Record<Gender, readonly number[]> = {
  female: [86, 95, 102, 109, 115, 121, 127, 133, 138, 144, 151, 157, 160, 162, 163, 163, 164],
  male: [87, 96, 103, 110, 116, 122, 128, 133, 138, 143, 149, 156, 163, 169, 173, 175, 177],
};
/** Median body-mass index by age 2–18. */
const medianBmi: readonly number[] = [16.4, 15.8, 15.5, 15.3, 15.3, 15.5, 15.8, 16.2, 16.7, 17.3, 17.9, 18.6, 19.3, 19.9, 20.5, 21, 21.4];

/** Linear interpolation in a table indexed by age 2, 3, … 18. */
function byAge(table: readonly number[], years: number): number {
  const x = clamp(years, 2, 18) - 2;
  const i = Math.min(Math.floor(x), table.length - 2);
  return table[i]! + (table[i + 1]! - table[i]!) * (x - i);
}

/** A patient's build: how tall and heavy they are at any day (children grow). */
interface Build {
  heightOn(day: Day): number;
  weightOn(day: Day): number;
}

function buildOf(rng: Random, who: Person, obese: boolean): Build {
  const heightFactor = 1 + rng.normal(0, 0.04);
  const adultBmi = obese ? rng.between(30.5, 39) : clamp(rng.normal(who.gender === 'female' ? 23.8 : 25.2, 2.6), 18.6, 29.5);
  const childFactor = obese ? rng.between(1.25, 1.4) : clamp(rng.normal(1, 0.07), 0.85, 1.18);
  const years = (day: Day) => (day - who.birth) / 365.25;
  const heightOn = (day: Day) => byAge(medianHeight[who.gender], years(day)) * heightFactor;
  return {
    heightOn,
    weightOn: (day) => {
      const bmi = years(day) >= 18 ? adultBmi : byAge(medianBmi, years(day)) * childFactor;
      return bmi * (heightOn(day) / 100) ** 2;
    },
  };
}

/** A 90-day series (5–30 points) of one measure, for a condition that calls for it. */
function series(record: RecordBuilder, rng: Random, loinc: string, build: Build, reference: Day): void {
  const days = rng.sample(reference - 90, reference - 1, rng.int(5, 30));
  switch (loinc) {
    case '85354-9': {
      const systolic = rng.int(128, 150);
      const diastolic = rng.int(76, 90);
      for (const day of days) {
        const high = clamp(Math.round(rng.normal(systolic, 7)), 115, 165);
        const low = clamp(Math.round(rng.normal(diastolic, 5)), 65, Math.min(100, high - 30));
        measurement(record, loinc, at(rng, day, 360, 510), [high, low]);
      }
      break;
    }
    case '8867-4': {
      const rate = rng.int(60, 82);
      for (const day of days) measurement(record, loinc, at(rng, day, 360, 510), [clamp(Math.round(rng.normal(rate, 5)), 50, 105)]);
      break;
    }
    case '2339-0': {
      const glucose = rng.int(115, 160);
      for (const day of days) measurement(record, loinc, at(rng, day, 390, 450), [clamp(Math.round(rng.normal(glucose, 14)), 80, 240)]);
      break;
    }
    case '29463-7': {
      const trend = rng.between(-3, 1);
      for (const day of days) {
        const weight = build.weightOn(day) + (trend * (day - reference + 90)) / 90 + rng.normal(0, 0.35);
        measurement(record, loinc, at(rng, day, 360, 540), [round(weight, 1)]);
      }
      break;
    }
    case '2708-6':
      for (const day of days) measurement(record, loinc, at(rng, day, 420, 1260), [clamp(Math.round(rng.normal(96.5, 1.2)), 92, 100)]);
      break;
    case '55423-8':
      dailySteps(record, rng, days, rng.int(2500, 7000));
      break;
    default:
      throw new Error(`no series for LOINC ${loinc}`);
  }
}

function dailySteps(record: RecordBuilder, rng: Random, days: readonly Day[], usual: number): void {
  for (const day of days) measurement(record, '55423-8', at(rng, day, 1200, 1290), [clamp(Math.round(rng.normal(usual, usual * 0.3)), 300, 30_000)]);
}

/** Sometimes a child's fever over two or three days, taken morning and evening, coming down. */
function fever(record: RecordBuilder, rng: Random, reference: Day): void {
  if (!rng.chance(0.25)) return;
  const first = latest(record.who.birth + 30, reference - rng.int(4, 365));
  if (first + 3 > reference) return;
  let temperature = rng.between(38.6, 39.8);
  const days = rng.int(2, 3);
  for (let i = 0; i < days * 2; i++) {
    measurement(record, '8310-5', at(rng, first + Math.floor(i / 2), i % 2 === 0 ? 420 : 1140, i % 2 === 0 ? 480 : 1200), [round(temperature, 1)]);
    temperature = Math.max(36.6, temperature - rng.between(0.2, 0.6));
  }
}

/** A few weights and heights from the last two years, for anyone aged 2 or more. */
function bodyMeasures(record: RecordBuilder, rng: Random, build: Build, reference: Day, before: Day): void {
  const from = latest(reference - 730, addYears(record.who.birth, 2));
  if (from > before) return;
  const adult = ageOn(record.who.birth, reference) >= 18;
  for (const day of rng.sample(from, before, rng.int(2, 5))) measurement(record, '29463-7', at(rng, day, 480, 1080), [round(build.weightOn(day), 1)]);
  for (const day of rng.sample(from, before, rng.int(1, 2))) measurement(record, '8302-2', at(rng, day, 480, 1080), [round(build.heightOn(day), adult ? 0 : 1)]);
}

function laboratory(record: RecordBuilder, rng: Random, plans: ConditionPlan[], reference: Day, force: boolean): LabResult[] {
  const active = (code: string) => plans.some((plan) => plan.code === code && plan.abated === null);
  const diabetic = active('E11');
  if (ageOn(record.who.birth, reference) < 18 || !(force || diabetic || active('E78') || rng.chance(0.55))) return [];
  const day = reference - rng.int(20, 330);
  const results: LabResult[] = [
    { loinc: '2093-3', day, value: active('E78') ? rng.int(190, 260) : clamp(Math.round(rng.normal(195, 25)), 140, 280) },
    { loinc: '2160-0', day, value: round(clamp(rng.normal(record.who.gender === 'male' ? 0.95 : 0.75, 0.12), 0.5, 1.6), 2) },
  ];
  if (diabetic) {
    results.push({ loinc: '4548-4', day, value: round(rng.between(6.3, 8.6), 1) });
    results.push({ loinc: '4548-4', day: day - rng.int(90, 120), value: round(rng.between(6.3, 8.9), 1) });
  }
  for (const result of results) measurement(record, result.loinc, at(rng, result.day, 420, 570), [result.value]);
  return results;
}

/** Allergies a patient with allergic rhinitis is more likely to have. */
const airborne = ['418689008', '232347008'];

function allergyIntolerances(record: RecordBuilder, rng: Random, plans: ConditionPlan[], reference: Day, forced: string | null): string[] {
  const rhinitis = plans.some((plan) => plan.code === 'J30');
  if (forced === null && !rng.chance(rhinitis ? 0.45 : 0.13)) return [];
  const codes = Object.keys(allergies).sort();
  const first = forced ?? (rhinitis && rng.chance(0.7) ? rng.pick(airborne) : rng.pick(codes));
  const chosen = [first];
  if (rng.chance(0.1)) {
    const second = rng.pick(codes);
    if (second !== first) chosen.push(second);
  }
  const earliest = latest(record.who.birth + 180, reference - 30 * 365);
  if (earliest > reference - 30) return [];
  for (const code of chosen) {
    const kind = allergies[code]!;
    const onset = rng.int(earliest, reference - 30);
    const recorded = at(rng, Math.min(onset + rng.int(0, 400), reference - 1), 480, 1080);
    record.add(
      'allergy',
      {
        resourceType: 'AllergyIntolerance',
        clinicalStatus: concept(systems.allergyClinical, 'active', 'Active'),
        verificationStatus: concept(systems.allergyVerification, 'confirmed', 'Confirmée'),
        type: 'allergy',
        category: [kind.category],
        criticality: kind.criticality,
        code: concept(systems.snomed, kind.snomed, kind.display),
        patient: record.subject,
        onsetDateTime: isoInstant({ day: onset, minute: 0 }),
        recordedDate: isoInstant(recorded),
        reaction: [{ manifestation: [{ text: kind.reaction }], severity: kind.criticality === 'high' ? 'severe' : rng.pick(['mild', 'moderate'] as const) }],
      },
      recorded,
    );
  }
  return chosen;
}

interface Service {
  service: string;
  description: string;
  type: 'ROUTINE' | 'FOLLOWUP' | 'CHECKUP';
  minutes: number;
  /** Seen by the household's GP rather than a specialist. */
  gp: boolean;
}

const appointmentTypes = { ROUTINE: 'Consultation de routine', FOLLOWUP: 'Consultation de suivi', CHECKUP: 'Bilan de santé' } as const;
const service = (name: string, description: string, type: Service['type'], minutes: number, gp = false): Service => ({ service: name, description, type, minutes, gp });
const generalPractice = service('Médecine générale', 'Consultation de médecine générale', 'ROUTINE', 20, true);
const cardiology = service('Cardiologie', 'Cardiologie — consultation de suivi', 'FOLLOWUP', 30);

/** The services a patient may have an appointment with, by age, sex and conditions, weighted. */
function servicesFor(who: Person, plans: ConditionPlan[], reference: Day): [Service, number][] {
  const has = (code: string) => plans.some((plan) => plan.code === code && plan.abated === null);
  const age = ageOn(who.birth, reference);
  const choices: [Service, number][] = [
    [age < 16 ? service('Pédiatrie', 'Pédiatrie — consultation de suivi', 'CHECKUP', 20, true) : generalPractice, 6],
    [service('Ophtalmologie', 'Ophtalmologie — contrôle de la vue', 'CHECKUP', 20), 1],
    [service('Chirurgie dentaire', 'Chirurgie dentaire — détartrage et contrôle', 'ROUTINE', 30), 1],
    [service('Dermatologie', 'Dermatologie — examen de la peau', 'CHECKUP', 20), 1],
  ];
  if (has('I10')) choices.push([cardiology, 3]);
  if (has('E11')) choices.push([service('Endocrinologie', 'Diabétologie — consultation de suivi', 'FOLLOWUP', 30), 3]);
  if (has('J45')) choices.push([service('Pneumologie', 'Pneumologie — bilan de l’asthme', 'FOLLOWUP', 30), 2]);
  if (age >= 18 && who.gender === 'female') choices.push([service('Gynécologie', 'Gynécologie — consultation annuelle', 'CHECKUP', 20), 2]);
  if (age >= 60) choices.push([service('Kinésithérapie', 'Kinésithérapie — séance de rééducation', 'ROUTINE', 30), 1]);
  return choices;
}

function appointments(record: RecordBuilder, rng: Random, plans: ConditionPlan[], reference: Day, gp: string, forced: Service[]): Facts['visits'] {
  const who = record.who;
  const adult = ageOn(who.birth, reference) >= 18;
  const choices = servicesFor(who, plans, reference);
  const count = adult ? rng.int(1, 4) : rng.int(0, 2);
  // The showcase's forced appointments come on top of at least two ordinary ones.
  const others = forced.length ? Math.max(count, 2) : count;
  const chosen = [...forced, ...Array.from({ length: others }, () => rng.weighted(choices))];
  const visits: Facts['visits'] = [];
  chosen.forEach((choice, i) => {
    // The forced ones (the showcase's) are in the future, so the default patient always has one booked.
    const past = reference - rng.int(1, 365);
    const future = i < forced.length || rng.chance(0.45) || past <= who.birth;
    const day = future ? reference + rng.int(1, 90) : past;
    const start: Instant = { day, minute: 420 + 15 * rng.int(0, 38) };
    const end = addMinutes(start, choice.minutes);
    const doctor = choice.gp ? gp : doctorName(rng);
    // A booked appointment was last changed when it was booked, before the reference day.
    const updated = future ? at(rng, reference - rng.int(1, 30), 420, 1200) : end;
    record.add(
      'appt',
      {
        resourceType: 'Appointment',
        status: future ? 'booked' : 'fulfilled',
        appointmentType: concept(systems.appointmentType, choice.type, appointmentTypes[choice.type]),
        serviceType: [{ text: choice.service }],
        description: choice.description,
        start: isoInstant(start),
        end: isoInstant(end),
        participant: [
          { actor: { reference: `Patient/${who.id}`, display: fullName(who) }, status: 'accepted' },
          { actor: { display: doctor }, status: 'accepted' },
        ],
      },
      updated,
    );
    if (!future) visits.push({ at: start, doctor, description: choice.description });
  });
  return visits;
}

/** What a doctor writes after a visit, through the national secure health messaging: the subject, the message, the patient's answer. */
const careTeamNotes = [
  ['Suite de votre consultation', 'Bonjour, comme convenu, je vous confirme que votre bilan est rassurant. Continuez votre traitement et revenez me voir dans trois mois.', 'Merci docteur, je prends rendez-vous.'],
  ['Vos résultats d’analyse', 'Bonjour, vos résultats d’analyse sont arrivés : ils sont dans les normes. Nous en reparlerons à votre prochain rendez-vous.', 'Merci pour ce retour rapide.'],
  ['Rappel de vaccination', 'Bonjour, votre rappel de vaccination arrive à échéance. Pensez à prendre rendez-vous au cabinet ou en pharmacie.', null],
  ['Votre ordonnance', 'Bonjour, votre ordonnance a été renouvelée pour trois mois. Vous pouvez la retrouver dans vos documents.', 'Bien reçu, merci.'],
] as const;

/**
 * A short exchange with the care team after the last visit, for some patients: the doctor's
 * message through the national secure health messaging, and sometimes the patient's answer. No
 * app wrote them, so no app's conversation holds them: the patient reads them in "Ma messagerie".
 */
function careTeamMessages(record: RecordBuilder, rng: Random, visits: Facts['visits'], forced: boolean): void {
  const last = visits.reduce<Facts['visits'][number] | undefined>((latest, visit) => (!latest || visit.at.day > latest.at.day ? visit : latest), undefined);
  if (!last || !(forced || rng.chance(0.35))) return;
  const [topic, text, answer] = rng.pick(careTeamNotes);
  const patient = `Patient/${record.who.id}`;
  const sent = addMinutes(last.at, 60 * rng.int(4, 48));
  const message = (from: { reference?: string; display: string }, to: { reference?: string; display: string }, when: Instant, content: string, inResponseTo?: string): FhirResource => ({
    resourceType: 'Communication',
    status: 'completed',
    category: [concept(systems.communicationCategory, 'notification', 'Notification')],
    subject: { reference: patient },
    topic: { text: topic },
    ...(inResponseTo ? { inResponseTo: [{ reference: `Communication/${inResponseTo}` }] } : {}),
    sent: isoInstant(when),
    sender: from,
    recipient: [to],
    payload: [{ contentString: content }],
  });
  const doctor = { display: last.doctor };
  const self = { reference: patient, display: fullName(record.who) };
  record.add('msg', message(doctor, self, sent, text), sent);
  if (answer) {
    const answered = addMinutes(sent, 60 * rng.int(1, 20));
    record.add('msg', message(self, doctor, answered, answer, `${record.who.id}-msg-1`), answered);
  }
}

const imagingReports = [
  ['Radiographie thoracique de face.', 'Pas d’anomalie pleuro-pulmonaire décelable.'],
  ['Échographie abdominale.', 'Foie, vésicule, reins et rate sans particularité.'],
  ['Radiographie du poignet droit, face et profil.', 'Pas de fracture visible.'],
  ['Échographie de la thyroïde.', 'Thyroïde de taille normale, sans nodule.'],
] as const;

const lower = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);
/** A decimal number the French way (0,7), without a locale API. */
const frenchNumber = (value: number) => String(value).replace('.', ',');

/** The body of a document of a type, from what the record holds. */
function documentLines(code: string, rng: Random, who: Person, facts: Facts, day: Day): string[] {
  const active = facts.conditions.filter((plan) => plan.abated === null).map((plan) => conditions[plan.code]!.display);
  const treatments = facts.medications.filter((plan) => plan.end === null).map((plan) => `${medications[plan.atc]!.display} : ${medications[plan.atc]!.dosage}`);
  switch (code) {
    case '11488-4':
      return [
        `Motif : ${active.length ? `suivi — ${lower(rng.pick(active))}` : 'consultation de médecine générale'}.`,
        `Examen clinique : poids stable, auscultation normale.`,
        active.length ? 'Conclusion : état stable, poursuite du traitement en cours.' : 'Conclusion : examen normal, pas de traitement.',
        'Prochain contrôle dans trois mois.',
      ];
    case '57833-6':
      return ['Prescription :', ...(treatments.length ? treatments : [`${medications.N02BE01!.display} : ${medications.N02BE01!.dosage}`]), 'Renouvelable trois fois.'];
    case '11502-2':
      return [
        'Résultats du bilan biologique :',
        ...facts.labs
          .filter((lab) => lab.day === facts.labs[0]?.day)
          .map((lab) => `${laboratoryResults[lab.loinc]!.display} : ${frenchNumber(lab.value)} ${laboratoryResults[lab.loinc]!.unit.display}`),
        'Valeurs de référence du laboratoire jointes au dossier.',
      ];
    case '18748-4':
      return [...rng.pick(imagingReports)];
    case '18842-5':
      return [
        `Hospitalisation du ${frenchDate(day - rng.int(2, 6))} au ${frenchDate(day)}.`,
        `Motif : ${rng.pick(['douleur abdominale', 'malaise', 'pneumopathie', 'fracture du poignet'])}.`,
        `Traitement de sortie : ${treatments.length ? treatments.join(' ; ') : 'aucun'}.`,
        'Suivi par le médecin traitant sous huit jours.',
      ];
    default:
      return [
        `Antécédents : ${active.length ? active.join(', ') : 'aucun antécédent notable'}.`,
        `Traitements : ${treatments.length ? treatments.join(' ; ') : 'aucun'}.`,
        `Allergies : ${facts.allergies.length ? facts.allergies.map((code) => allergies[code]!.display).join(', ') : 'aucune connue'}.`,
      ];
  }
}

function documents(record: RecordBuilder, rng: Random, facts: Facts, reference: Day, gp: string, forced: string[] | null): void {
  const who = record.who;
  const candidates: [string, number][] = [
    ['11488-4', 35],
    ['34133-9', 10],
    ['18748-4', 10],
  ];
  if (facts.medications.some((plan) => plan.end === null)) candidates.push(['57833-6', 20]);
  if (facts.labs.length) candidates.push(['11502-2', 15]);
  if (ageOn(who.birth, reference) >= 18) candidates.push(['18842-5', 6]);
  const types = forced ?? Array.from({ length: rng.weighted([[0, 30], [1, 35], [2, 20], [3, 15]] as const) }, () => rng.weighted(candidates));
  for (const code of types) {
    let when = at(rng, Math.min(latest(who.birth + 1, reference - rng.int(1, 700)), reference - 1), 540, 1080);
    let author = code === '18748-4' || code === '18842-5' ? doctorName(rng) : gp;
    if (code === '11488-4' && facts.visits.length) {
      const visit = rng.pick(facts.visits);
      when = addMinutes(visit.at, 30);
      author = visit.doctor;
    } else if (code === '11502-2' && facts.labs[0]) {
      when = at(rng, Math.min(facts.labs[0].day + 1, reference - 1), 600, 1080);
      author = `${doctorName(rng)}, biologiste`;
    }
    const title = documentTypes[code]!;
    const heading = `${title} du ${frenchDate(when.day)}`;
    const pdf = minimalPdf(heading, [
      `Patient${who.gender === 'female' ? 'e' : ''} : ${fullName(who)}, né${who.gender === 'female' ? 'e' : ''} le ${frenchDate(who.birth)}`,
      `INS : ${who.nir}`,
      `Auteur : ${author}`,
      '',
      ...documentLines(code, rng, who, facts, when.day),
      '',
      'Document fictif du bac à sable : aucune donnée réelle.',
    ]);
    record.add(
      'doc',
      {
        resourceType: 'DocumentReference',
        status: 'current',
        type: concept(systems.loinc, code, title),
        subject: record.subject,
        date: isoInstant(when),
        author: [{ display: author }],
        description: heading,
        content: [
          {
            attachment: {
              contentType: 'application/pdf',
              language: 'fr-FR',
              data: pdf.toString('base64'),
              size: pdf.length,
              hash: createHash('sha1').update(pdf).digest('base64'),
              title: heading,
              creation: isoInstant(when),
            },
          },
        ],
      },
      when,
    );
  }
}

/** Every resource of one patient, the Patient first; each section draws from its own stream. */
function patientRecord(who: Person, plan: HouseholdPlan, rng: Random, reference: Day, profile: Profile): NewResource[] {
  const record = new RecordBuilder(who);
  record.resources.push({ patientId: who.id, id: who.id, resource: patientResource(who, plan), lastUpdated: toDate({ day: reference, minute: 0 }) });
  const age = ageOn(who.birth, reference);

  const plans = planConditions(rng.fork('conditions'), who, reference, profile);
  const medicationPlans = conditionsAndTreatments(record, rng.fork('treatments'), plans, reference);
  vaccinations(record, rng.fork('vaccinations'), reference, profile.vaccinated);

  const build = buildOf(rng.fork('build'), who, plans.some((p) => p.code === 'E66'));
  const measures: string[] = [];
  for (const condition of plans) {
    if (condition.abated !== null) continue;
    for (const loinc of conditions[condition.code]!.measures ?? []) if (!measures.includes(loinc)) measures.push(loinc);
  }
  const seriesRng = rng.fork('series');
  for (const loinc of measures) series(record, seriesRng.fork(loinc), loinc, build, reference);
  bodyMeasures(record, rng.fork('body'), build, reference, measures.includes('29463-7') ? reference - 91 : reference - 1);

  // A watch or a phone counting steps: 30 days in a row for some adults.
  const activity = rng.fork('activity');
  if (!measures.includes('55423-8') && age >= 18 && age < 85 && (profile.steps || activity.chance(0.4))) {
    dailySteps(record, activity, Array.from({ length: 30 }, (_, i) => reference - 30 + i), activity.int(4000, 11_000));
  }

  if (age < 12) fever(record, rng.fork('fever'), reference);
  const labs = laboratory(record, rng.fork('laboratory'), plans, reference, profile.labs);
  const allergyCodes = allergyIntolerances(record, rng.fork('allergies'), plans, reference, profile.allergy);
  const visits = appointments(record, rng.fork('appointments'), plans, reference, plan.doctor, profile.appointments);
  documents(record, rng.fork('documents'), { conditions: plans, medications: medicationPlans, allergies: allergyCodes, labs, visits }, reference, plan.doctor, profile.documents);
  careTeamMessages(record, rng.fork('messages'), visits, profile.messages);
  return record.resources;
}

const showcaseProfile: Profile = {
  conditions: ['I10'],
  allergy: '91936005',
  documents: ['11488-4', '57833-6', '11502-2'],
  steps: true,
  labs: true,
  vaccinated: true,
  appointments: [cardiology],
  messages: true,
};

// ---------------------------------------------------------------------------------------------
// The population

function checkOptions(options: PopulationOptions): { seed: string; patients: number; reference: Day } {
  if (!Number.isSafeInteger(options.patients) || options.patients < 0) throw new RangeError(`patients must be a non-negative integer, not ${options.patients}`);
  return { seed: options.seed, patients: options.patients, reference: parseDay(options.referenceDate ?? DEFAULT_REFERENCE_DATE) };
}

/**
 * The population, household by household (so memory stays bounded whatever the size): exactly
 * `patients` Patients, numbered in generation order; the last household may be cut short.
 */
export function generatePopulation(options: PopulationOptions): Generator<Household> {
  // Checked now, not at the first household: a generator's body only runs when it is iterated.
  const { seed, patients, reference } = checkOptions(options);
  return households(seed, patients, reference);
}

function* households(seed: string, patients: number, reference: Day): Generator<Household> {
  const root = Random.fromSeed(`mes-sandbox-population:${seed}`);
  let next = 1;
  for (let index = 0; next <= patients; index++) {
    const rng = root.fork(`household-${index}`);
    const plan = index === 0 ? planShowcase(rng.fork('plan'), reference) : planHousehold(rng.fork('plan'), reference);
    // Adults come first, so a child is kept only with the parents its guardianships name.
    const kept = plan.members.slice(0, patients - next + 1);
    const contacts = rng.fork('contacts');
    const people = kept.map((plan) => person(contacts, plan, next++, reference));
    const adults = people.filter((who) => !who.child);
    const guardianships: Guardianship[] = [];
    for (const child of people.filter((who) => who.child)) {
      child.guardians = adults;
      for (const guardian of adults) {
        guardianships.push({ guardianId: guardian.id, childId: child.id, relationship: relationshipOf(guardian), validUntil: formatDay(addYears(child.birth, 18)) });
      }
    }
    const resources = people.flatMap((who, i) => patientRecord(who, plan, rng.fork(`member-${i}`), reference, plan.showcase && i === 0 ? showcaseProfile : ordinary));
    yield { resources, guardianships };
  }
}

/** JSON with object keys sorted (and Dates as ISO strings): the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += `${i ? ',' : ''}${value[i] === undefined ? 'null' : canonicalJson(value[i])}`;
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  // Default sort: UTF-16 code-unit order, the same everywhere (localeCompare is not).
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** A running SHA-256 of households in order: the determinism fingerprint of a population. */
export function populationHash(): { update(household: Household): void; digest(): string } {
  const hash = createHash('sha256');
  return {
    update(household) {
      hash.update(canonicalJson(household), 'utf8');
      hash.update('\n');
    },
    digest: () => hash.digest('hex'),
  };
}

/** SHA-256 (hex) of the canonical JSON of every household of the population, in order. */
export function populationDigest(options: PopulationOptions): string {
  const hash = populationHash();
  for (const household of generatePopulation(options)) hash.update(household);
  return hash.digest();
}
