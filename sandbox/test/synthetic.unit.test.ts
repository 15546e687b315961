import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fhirResourceValidator, records } from '@mes/catalog-api';
import { addYears, ageOn, civil, dayOf, formatDay, monthsOn, parseDay } from '../src/synthetic/calendar.js';
import { DEFAULT_REFERENCE_DATE, generatePopulation, populationDigest, ROLE_CODE_SYSTEM, type Household } from '../src/synthetic/generator.js';
import { nirKey, SYNTHETIC_DEPARTMENT, syntheticNir } from '../src/synthetic/ins.js';
import { minimalPdf } from '../src/synthetic/pdf.js';
import { Random } from '../src/synthetic/random.js';
import { RECORDED_SINCE } from '../src/synthetic/vaccination.js';

const { systems, measurements, laboratoryResults, documentTypes, vaccines, conditions, allergies, medications } = records.vocabulary;

type Resource = records.FhirResource;
type Of<T extends Resource['resourceType']> = Extract<Resource, { resourceType: T }>;

const reference = parseDay(DEFAULT_REFERENCE_DATE);
const PATIENTS = 300;
const households = [...generatePopulation({ seed: 'sandbox-test', patients: PATIENTS })];
const items = households.flatMap((household) => household.resources);
const links = households.flatMap((household) => household.guardianships);
const patients = items.filter((item) => item.resource.resourceType === 'Patient') as (records.NewResource & { resource: Of<'Patient'> })[];
const patientById = new Map(patients.map((item) => [item.patientId, item.resource]));
const birthOf = (patientId: string) => parseDay(patientById.get(patientId)!.birthDate!);
const ofType = <T extends Resource['resourceType']>(type: T) => items.filter((item) => item.resource.resourceType === type) as (records.NewResource & { resource: Of<T> })[];
const dayOfInstant = (iso: string) => parseDay(iso.slice(0, 10));

describe('random streams', () => {
  it('draw the same numbers from the same seed, and independent ones per fork', () => {
    const a = Random.fromSeed('x');
    const b = Random.fromSeed('x');
    expect(Array.from({ length: 5 }, () => a.uint32())).toEqual(Array.from({ length: 5 }, () => b.uint32()));
    // A fork depends on its label and the parent's seed only, not on what the parent drew.
    const fresh = Random.fromSeed('x').fork('child');
    const used = Random.fromSeed('x');
    for (let i = 0; i < 100; i++) used.float();
    expect(used.fork('child').uint32()).toBe(fresh.uint32());
    expect(Random.fromSeed('x').fork('other').uint32()).not.toBe(Random.fromSeed('x').fork('child').uint32());
    expect(Random.fromSeed('y').fork('child').uint32()).not.toBe(Random.fromSeed('x').fork('child').uint32());
  });

  it('keep to their ranges', () => {
    const rng = Random.fromSeed('ranges');
    const ints = Array.from({ length: 2000 }, () => rng.int(3, 7));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5, 6, 7]));
    const normals = Array.from({ length: 2000 }, () => rng.normal(100, 10));
    const mean = normals.reduce((sum, x) => sum + x, 0) / normals.length;
    expect(Math.abs(mean - 100)).toBeLessThan(1.5);
    expect(Math.min(...normals)).toBeGreaterThanOrEqual(100 - 3.47 * 10);
    const sample = rng.sample(10, 99, 30);
    expect(sample).toHaveLength(30);
    expect(new Set(sample).size).toBe(30);
    expect([...sample].sort((x, y) => x - y)).toEqual(sample);
    expect(sample.every((x) => x >= 10 && x <= 99)).toBe(true);
    expect(rng.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('calendar', () => {
  it('converts days and dates both ways', () => {
    for (let day = dayOf(1900, 1, 1); day < dayOf(2100, 1, 1); day += 37) {
      const { year, month, day: d } = civil(day);
      expect(dayOf(year, month, d)).toBe(day);
    }
    expect(dayOf(1970, 1, 1)).toBe(0);
    expect(formatDay(dayOf(2024, 2, 29))).toBe('2024-02-29');
    expect(() => parseDay('2026-02-30')).toThrow();
    expect(() => parseDay('30/11/2026')).toThrow();
  });

  it('counts birthdays of 29 February from 1 March in common years', () => {
    expect(formatDay(addYears(parseDay('2008-02-29'), 18))).toBe('2026-03-01');
    expect(formatDay(addYears(parseDay('2008-02-29'), 16))).toBe('2024-02-29');
    expect(ageOn(parseDay('2008-02-29'), parseDay('2026-02-28'))).toBe(17);
    expect(ageOn(parseDay('2008-02-29'), parseDay('2026-03-01'))).toBe(18);
  });
});

describe('minimal PDF', () => {
  const pdf = minimalPdf('Compte rendu (test) \\ été', ['Émilie Hélène Loïc — œdème', 'x'.repeat(200), '']);
  const text = pdf.toString('latin1');

  it('is a PDF 1.4 whose xref offsets point at their objects', () => {
    expect(text.startsWith('%PDF-1.4\n')).toBe(true);
    expect(text.endsWith('%%EOF')).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n%%EOF$/.exec(text)![1]);
    expect(text.slice(startxref, startxref + 5)).toBe('xref\n');
    const entries = text.slice(startxref).split('\n').slice(3, 8);
    entries.forEach((entry, i) => {
      expect(entry).toMatch(/^\d{10} 00000 n $/);
      const offset = Number(entry.slice(0, 10));
      expect(text.slice(offset, offset + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`);
    });
    const stream = /stream\n([\s\S]*?)\nendstream/.exec(text)![1]!;
    expect(text).toContain(`/Length ${Buffer.byteLength(stream, 'latin1')} `);
  });

  it('escapes string delimiters and writes accents in WinAnsiEncoding', () => {
    expect(text).toContain('(Compte rendu \\(test\\) \\\\ \\351t\\351) Tj');
    // É 311, é 351, è… ; — is 227 and œ 234 in Windows-1252.
    expect(text).toContain('(\\311milie H\\351l\\350ne Lo\\357c \\227 \\234d\\350me) Tj');
    expect(text).toContain('/Encoding /WinAnsiEncoding');
    expect([...pdf].every((byte) => byte < 0x80)).toBe(true);
  });

  it('is small and deterministic', () => {
    expect(pdf.length).toBeLessThan(1500);
    expect(minimalPdf('Compte rendu (test) \\ été', ['Émilie Hélène Loïc — œdème', 'x'.repeat(200), '']).equals(pdf)).toBe(true);
  });
});

describe('INS numbers', () => {
  it('have the NIR key and the impossible department 00', () => {
    // The key computed independently, on BigInt.
    const key = (digits: string) => String(97n - (BigInt(digits) % 97n)).padStart(2, '0');
    expect(nirKey('1850578006084')).toBe(key('1850578006084'));
    const nir = syntheticNir('female', parseDay('1980-05-04'), 1234);
    expect(nir).toMatch(/^2800500\d{6}\d{2}$/);
    expect(nir.slice(5, 7)).toBe(SYNTHETIC_DEPARTMENT);
    expect(nir.slice(13)).toBe(key(nir.slice(0, 13)));
  });
});

describe('synthetic population', () => {
  it('is the same for the same seed, and another for another seed or date', () => {
    const options = { seed: 'sandbox', patients: 60 };
    const digest = populationDigest(options);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(populationDigest(options)).toBe(digest);
    expect(populationDigest({ ...options, seed: 'sandbox-2' })).not.toBe(digest);
    expect(populationDigest({ ...options, referenceDate: '2026-12-01' })).not.toBe(digest);
    expect(populationDigest({ ...options, referenceDate: DEFAULT_REFERENCE_DATE })).toBe(digest);
  });

  it('has exactly the number of patients asked for, numbered in order; a smaller one is a prefix', () => {
    for (const count of [0, 1, 2, 3, 4, 5, 17]) {
      const ids = [...generatePopulation({ seed: 'sandbox-test', patients: count })].flatMap((household) =>
        household.resources.filter((item) => item.resource.resourceType === 'Patient').map((item) => item.patientId),
      );
      expect(ids).toEqual(Array.from({ length: count }, (_, i) => `sandbox-patient-${i + 1}`));
    }
    expect(patients.map((item) => item.patientId)).toEqual(Array.from({ length: PATIENTS }, (_, i) => `sandbox-patient-${i + 1}`));
    // Households before the cut are the same whatever the size: only the last one may be cut short.
    const smaller = [...generatePopulation({ seed: 'sandbox-test', patients: 101 })];
    expect(smaller.slice(0, -1)).toEqual(households.slice(0, smaller.length - 1));
    const last = smaller[smaller.length - 1]!;
    const full = households[smaller.length - 1]!;
    const kept = new Set(last.resources.map((item) => item.patientId));
    expect(last.resources).toEqual(full.resources.filter((item) => kept.has(item.patientId)));
    expect(() => generatePopulation({ seed: 'x', patients: -1 })).toThrow(RangeError);
    expect(() => generatePopulation({ seed: 'x', patients: 1, referenceDate: '2026-13-01' })).toThrow(RangeError);
  });

  it('averages 30 to 50 resources a patient, of every type', () => {
    expect(items.length / PATIENTS).toBeGreaterThan(30);
    expect(items.length / PATIENTS).toBeLessThan(50);
    for (const type of records.fhirResourceTypes) expect(ofType(type).length).toBeGreaterThan(0);
  });

  it('has unique ids, in the compartment of their patient', () => {
    const ids = items.map((item) => `${item.resource.resourceType}/${item.id}`);
    expect(new Set(ids).size).toBe(ids.length);
    const wrong = items.filter((item) => {
      const resource = item.resource;
      if (!/^[A-Za-z0-9.-]{1,64}$/.test(item.id!) || !(item.lastUpdated instanceof Date)) return true;
      if (resource.resourceType === 'Patient') return item.id !== item.patientId;
      if (!new RegExp(`^${item.patientId}-(obs|imm|cond|med|allergy|appt|doc|msg)-\\d+$`).test(item.id!)) return true;
      const subject =
        resource.resourceType === 'Immunization' || resource.resourceType === 'AllergyIntolerance'
          ? resource.patient
          : resource.resourceType === 'Appointment'
            ? resource.participant?.[0]?.actor
            : resource.subject;
      return subject?.reference !== `Patient/${item.patientId}`;
    });
    expect(wrong.map((item) => item.id)).toEqual([]);
  });

  it('validates against the spec schemas', () => {
    const validate = fhirResourceValidator();
    const errors = items.flatMap((item) => validate(item.resource).map((error) => `${item.id}: ${error}`));
    expect(errors).toEqual([]);
  });

  it('uses only codes of the vocabulary', () => {
    const systemValues = new Set<string>([...Object.values(systems), ROLE_CODE_SYSTEM]);
    const codings: { system?: string; code: string; display?: string }[] = [];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (value && typeof value === 'object') {
        const object = value as Record<string, unknown>;
        if (Array.isArray(object.coding)) codings.push(...(object.coding as typeof codings));
        Object.values(object).forEach(collect);
      }
    };
    items.forEach((item) => collect(item.resource));
    expect(codings.length).toBeGreaterThan(items.length);
    expect(codings.filter((coding) => !systemValues.has(coding.system ?? '') || !coding.display)).toEqual([]);
    const components = new Set(Object.values(measurements).flatMap((kind) => (kind.components ?? []).map((c) => c.loinc)));
    for (const { resource } of ofType('Observation')) {
      const code = resource.code.coding![0]!.code;
      const kind = measurements[code] ?? laboratoryResults[code];
      expect(kind, code).toBeDefined();
      expect(resource.code.coding![0]!.display).toBe(kind!.display);
      const category = measurements[code]?.category ?? 'laboratory';
      expect(resource.category![0]!.coding![0]).toMatchObject({ system: systems.observationCategory, code: category });
      const quantities = resource.component ? resource.component.map((c) => c.valueQuantity!) : [resource.valueQuantity!];
      for (const [i, quantity] of quantities.entries()) {
        expect(quantity).toMatchObject({ system: systems.ucum, code: kind!.unit.code, unit: kind!.unit.display });
        const range = measurements[code]?.components?.[i]?.range ?? kind!.range;
        expect(quantity.value).toBeGreaterThanOrEqual(range[0]);
        expect(quantity.value).toBeLessThanOrEqual(range[1]);
      }
      for (const component of resource.component ?? []) expect(components).toContain(component.code.coding![0]!.code);
    }
    for (const { resource } of ofType('Immunization')) expect(vaccines[resource.vaccineCode.coding![0]!.code]).toBeDefined();
    for (const { resource } of ofType('Condition')) expect(conditions[resource.code!.coding![0]!.code]).toBeDefined();
    for (const { resource } of ofType('AllergyIntolerance')) {
      const kind = allergies[resource.code!.coding![0]!.code]!;
      expect(resource).toMatchObject({ category: [kind.category], criticality: kind.criticality, type: 'allergy' });
    }
    for (const { resource } of ofType('MedicationStatement')) {
      expect(medications[resource.medicationCodeableConcept!.coding![0]!.code]).toBeDefined();
      // A treatment is given for a condition that lists it.
      const reason = resource.reasonCode![0]!.coding![0]!.code;
      expect(conditions[reason]!.medications).toContain(resource.medicationCodeableConcept!.coding![0]!.code);
    }
    for (const { resource } of ofType('DocumentReference')) expect(documentTypes[resource.type.coding![0]!.code]).toBeDefined();
  });

  it('dates nothing after the reference day but booked appointments', () => {
    const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
    const wrong: string[] = [];
    for (const item of items) {
      const booked = item.resource.resourceType === 'Appointment' && item.resource.status === 'booked';
      if (item.lastUpdated!.getTime() > reference * 86_400_000) wrong.push(`${item.id} lastUpdated ${item.lastUpdated!.toISOString()}`);
      const birth = birthOf(item.patientId);
      const check = (value: unknown): void => {
        if (typeof value === 'string' && isoDateTime.test(value)) {
          const day = dayOfInstant(value);
          if ((booked ? day <= reference : day >= reference) || day < birth) wrong.push(`${item.id} ${value}`);
        } else if (Array.isArray(value)) value.forEach(check);
        else if (value && typeof value === 'object') Object.values(value).forEach(check);
      };
      check(item.resource);
    }
    expect(wrong).toEqual([]);
    const appointments = ofType('Appointment');
    expect(appointments.some((item) => item.resource.status === 'booked')).toBe(true);
    expect(appointments.some((item) => item.resource.status === 'fulfilled')).toBe(true);
  });

  it('gives every child a guardianship from each parent until their 18th birthday', () => {
    const children = patients.filter((item) => ageOn(parseDay(item.resource.birthDate!), reference) < 18);
    expect(children.length).toBeGreaterThan(PATIENTS * 0.1);
    for (const child of children) {
      const household = households.find((h) => h.resources.some((item) => item.id === child.patientId))!;
      const adults = household.resources.filter((item) => item.resource.resourceType === 'Patient' && ageOn(birthOf(item.patientId), reference) >= 18);
      const own = links.filter((link) => link.childId === child.patientId);
      expect(own.map((link) => link.guardianId).sort()).toEqual(adults.map((item) => item.patientId).sort());
      const birth = child.resource.birthDate!;
      const leap = birth.slice(5) === '02-29' && !isLeapYear(Number(birth.slice(0, 4)) + 18);
      const eighteenth = leap ? `${Number(birth.slice(0, 4)) + 18}-03-01` : `${Number(birth.slice(0, 4)) + 18}${birth.slice(4)}`;
      for (const link of own) {
        expect(link.validUntil).toBe(eighteenth);
        const guardian = patientById.get(link.guardianId)!;
        expect(link.relationship).toBe(guardian.gender === 'female' ? 'MTH' : 'FTH');
      }
      expect(child.resource.contact?.map((contact) => contact.relationship![0]!.coding![0]!)).toEqual(
        own.map((link) => expect.objectContaining({ system: ROLE_CODE_SYSTEM, code: link.relationship })),
      );
    }
    for (const link of links) expect(ageOn(birthOf(link.childId), reference)).toBeLessThan(18);
    // The "child turning 18" scenario has candidates.
    const soon = children.filter((item) => addYears(parseDay(item.resource.birthDate!), 18) <= reference + 60);
    expect(soon.length).toBeGreaterThan(0);
  });

  it('vaccinates by the French schedule for each age', () => {
    const windows: Record<string, (months: number, years: number, dose: number) => boolean> = {
      J07CA09: (m) => m >= 2 && m <= 11,
      J07AL02: (m) => m >= 2 && m <= 11,
      J07AH08: (m) => m >= 5 && m <= 12,
      J07AH09: (m) => m >= 3 && m <= 12,
      J07BD52: (m, _y, dose) => (dose === 1 ? m === 12 : m >= 16 && m <= 18),
      J07CA02: (_m, y, dose) => (dose === 4 ? y === 6 : y >= 11 && y <= 13),
      J07BM03: (_m, y) => y >= 11 && y <= 14,
      J07CA01: (_m, y) => [25, 45, 65, 75, 85, 95].includes(y),
      J07BB02: (_m, y) => y >= 65,
      J07BN01: (_m, y) => y >= 18,
    };
    const immunizations = ofType('Immunization');
    expect(immunizations.length).toBeGreaterThan(PATIENTS);
    for (const { patientId, resource } of immunizations) {
      const day = dayOfInstant(resource.occurrenceDateTime!);
      const birth = birthOf(patientId);
      const atc = resource.vaccineCode.coding![0]!.code;
      const dose = resource.protocolApplied![0]!.doseNumberPositiveInt!;
      expect(windows[atc]!(monthsOn(birth, day), ageOn(birth, day), dose), `${patientId} ${atc} dose ${dose} on ${formatDay(day)}`).toBe(true);
      expect(day).toBeGreaterThanOrEqual(RECORDED_SINCE);
      expect(resource).toMatchObject({ status: 'completed', primarySource: true });
      expect(resource.lotNumber).toMatch(/^[A-Z]{2}\d{4}$/);
      expect(resource.protocolApplied![0]!.targetDisease!.map((d) => d.text)).toEqual(vaccines[atc]!.targets);
    }
    // A child born after the 2013 schedule has the infant series.
    const young = patients.filter((item) => monthsOn(parseDay(item.resource.birthDate!), reference) >= 12);
    const hexavalent = new Set(immunizations.filter((item) => item.resource.vaccineCode.coding![0]!.code === 'J07CA09').map((item) => item.patientId));
    const bornAfter = young.filter((item) => parseDay(item.resource.birthDate!) > RECORDED_SINCE);
    expect(bornAfter.filter((item) => hexavalent.has(item.patientId)).length).toBeGreaterThan(bornAfter.length * 0.8);
  });

  it('gives patients INS numbers with a correct key and department 00', () => {
    const numbers = patients.map((item) => item.resource.identifier![0]!);
    expect(new Set(numbers.map((n) => n.value)).size).toBe(PATIENTS);
    for (const { resource } of patients) {
      const identifier = resource.identifier![0]!;
      expect(identifier).toMatchObject({ use: 'official', system: systems.ins });
      const value = identifier.value!;
      expect(value).toMatch(/^[12]\d{14}$/);
      expect(value[0]).toBe(resource.gender === 'male' ? '1' : '2');
      expect(value.slice(1, 3)).toBe(resource.birthDate!.slice(2, 4));
      expect(value.slice(3, 5)).toBe(resource.birthDate!.slice(5, 7));
      expect(value.slice(5, 7)).toBe('00');
      expect(Number(value.slice(13))).toBe(97 - Number(BigInt(value.slice(0, 13)) % 97n));
      expect(resource.address![0]).toMatchObject({ use: 'home', country: 'FR' });
      for (const telecom of resource.telecom ?? []) {
        expect(telecom.value).toMatch(telecom.system === 'phone' ? /^06 39 98 \d{2} \d{2}$/ : /^[a-z0-9.-]+@exemple\.test$/);
      }
    }
  });

  it('gives ages from 0 to 99, about a fifth of them children', () => {
    const ages = patients.map((item) => ageOn(parseDay(item.resource.birthDate!), reference));
    expect(Math.min(...ages)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ages)).toBeLessThanOrEqual(99);
    const share = (test: (age: number) => boolean) => ages.filter(test).length / ages.length;
    expect(share((age) => age < 18)).toBeGreaterThan(0.12);
    expect(share((age) => age < 18)).toBeLessThan(0.35);
    expect(share((age) => age >= 65)).toBeGreaterThan(0.1);
  });

  it('measures conditions as 90-day series and treats them', () => {
    const byPatient = new Map<string, Household['resources']>();
    for (const item of items) byPatient.set(item.patientId, [...(byPatient.get(item.patientId) ?? []), item]);
    let hypertensive = 0;
    for (const [patientId, record] of byPatient) {
      const active = record.flatMap((item) =>
        item.resource.resourceType === 'Condition' && item.resource.clinicalStatus!.coding![0]!.code === 'active' ? [item.resource.code!.coding![0]!.code] : [],
      );
      if (!active.includes('I10')) continue;
      hypertensive += 1;
      const pressures = record.flatMap((item) => (item.resource.resourceType === 'Observation' && item.resource.code.coding![0]!.code === '85354-9' ? [item.resource] : []));
      expect(pressures.length, patientId).toBeGreaterThanOrEqual(5);
      expect(pressures.length).toBeLessThanOrEqual(30);
      for (const pressure of pressures) {
        expect(dayOfInstant(pressure.effectiveDateTime!)).toBeGreaterThanOrEqual(reference - 90);
        const [systolic, diastolic] = pressure.component!.map((c) => c.valueQuantity!.value);
        expect(systolic).toBeGreaterThanOrEqual(115);
        expect(systolic).toBeLessThanOrEqual(165);
        expect(diastolic!).toBeLessThan(systolic!);
      }
    }
    expect(hypertensive).toBeGreaterThan(PATIENTS * 0.05);
  });

  it('attaches small real PDFs to documents, with their size and SHA-1', () => {
    const documents = ofType('DocumentReference');
    expect(documents.length).toBeGreaterThan(PATIENTS / 2);
    for (const { resource } of documents) {
      const attachment = resource.content[0]!.attachment;
      const bytes = Buffer.from(attachment.data!, 'base64');
      expect(bytes.subarray(0, 8).toString('latin1')).toBe('%PDF-1.4');
      expect(bytes.length).toBe(attachment.size);
      expect(bytes.length).toBeLessThan(1500);
      expect(attachment.hash).toBe(createHash('sha1').update(bytes).digest('base64'));
      expect(attachment).toMatchObject({ contentType: 'application/pdf', language: 'fr-FR', creation: resource.date });
      expect(resource.status).toBe('current');
      expect(resource.author![0]!.display).toMatch(/^Dr /);
    }
  });

  it('makes sandbox-patient-1 an adult with a rich record', () => {
    const record = items.filter((item) => item.patientId === 'sandbox-patient-1');
    const patient = patientById.get('sandbox-patient-1')!;
    expect(ageOn(parseDay(patient.birthDate!), reference)).toBeGreaterThanOrEqual(18);
    const types = record.map((item) => item.resource.resourceType);
    for (const type of ['Condition', 'MedicationStatement', 'Immunization', 'Observation', 'AllergyIntolerance', 'Appointment', 'DocumentReference'] as const) {
      expect(types, type).toContain(type);
    }
    const codes = record.map((item) => (item.resource.resourceType === 'Condition' ? item.resource.code!.coding![0]!.code : ''));
    expect(codes).toContain('I10');
    const pressures = record.filter((item) => item.resource.resourceType === 'Observation' && item.resource.code.coding![0]!.code === '85354-9');
    expect(pressures.length).toBeGreaterThanOrEqual(5);
    expect(record.some((item) => item.resource.resourceType === 'Appointment' && item.resource.status === 'booked')).toBe(true);
    expect(links.some((link) => link.guardianId === 'sandbox-patient-1')).toBe(true);
  });
});

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

describe('determinism across machines', () => {
  // Why not a child process under another TZ: Node 20 cannot run this TypeScript without a loader
  // (no --experimental-strip-types, no tsx here), and a built copy could be stale. Instead, two
  // checks that together are sound: (1) the generator's sources call none of the APIs whose result
  // depends on the machine (clock, time zone, locale, system randomness); (2) the same population is
  // generated while this process's time zone is switched: V8 re-reads TZ when process.env.TZ is
  // assigned, and the test asserts that the switch took effect, so it cannot pass vacuously.
  const folder = fileURLToPath(new URL('../src/synthetic/', import.meta.url));

  it('calls no clock, time-zone, locale or system-random API', () => {
    const forbidden: [RegExp, string][] = [
      [/Math\.random/, 'Math.random'],
      [/Date\.now|performance\.now|process\.hrtime/, 'the clock'],
      [/new Date\(\s*\)/, 'new Date() (now)'],
      [/new Date\(\s*['"`]|Date\.parse/, 'date parsing (local time for date-times without a zone)'],
      [/\.(get|set)(FullYear|Month|Date|Day|Hours|Minutes|Seconds|Milliseconds)\(|getTimezoneOffset/, 'local-time getters/setters'],
      [/toLocale|Intl\.|localeCompare/, 'locale-dependent formatting or sorting'],
      [/randomUUID|randomBytes|getRandomValues|randomInt/, 'system randomness'],
      [/for\s*\(\s*(const|let|var)\s+\w+\s+in\s/, 'for…in (key order of arbitrary objects)'],
    ];
    const files = readdirSync(folder).filter((file) => file.endsWith('.ts'));
    expect(files).toEqual(expect.arrayContaining(['calendar.ts', 'generator.ts', 'ins.ts', 'names.ts', 'pdf.ts', 'random.ts', 'vaccination.ts']));
    for (const file of files) {
      const source = readFileSync(`${folder}${file}`, 'utf8')
        .split('\n')
        .filter((line) => !line.trim().startsWith('//') && !line.trim().startsWith('*'))
        .join('\n');
      for (const [pattern, what] of forbidden) expect(pattern.test(source), `${file} uses ${what}`).toBe(false);
    }
  });

  it('generates the same population in other time zones', () => {
    const options = { seed: 'time-zones', patients: 40 };
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'UTC';
      expect(new Date(Date.UTC(2026, 0, 1)).getTimezoneOffset()).toBe(0);
      const utc = populationDigest(options);
      // UTC+14 and UTC−3:30: a date computed in local time would shift by a day one way or the other.
      process.env.TZ = 'Pacific/Kiritimati';
      expect(new Date(Date.UTC(2026, 0, 1)).getTimezoneOffset()).toBe(-840);
      expect(populationDigest(options)).toBe(utc);
      process.env.TZ = 'America/St_Johns';
      expect(new Date(Date.UTC(2026, 0, 1)).getTimezoneOffset()).toBe(210);
      expect(populationDigest(options)).toBe(utc);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});
