// The code systems and codes the patient-data API speaks: what it requires of writes (a
// measurement is one of these LOINC codes, in its UCUM unit, in its category), and what the
// sandbox's synthetic records are made of. French labels, because the record is French.

export const systems = {
  /** Identifiant national de santé (INS), the patient's national health identifier. */
  ins: 'urn:oid:1.2.250.1.213.1.4.8',
  loinc: 'http://loinc.org',
  ucum: 'http://unitsofmeasure.org',
  snomed: 'http://snomed.info/sct',
  /** CIM-10 (ICD-10) diagnoses. */
  icd10: 'http://hl7.org/fhir/sid/icd-10',
  /** ATC classification of medicines and vaccines. */
  atc: 'http://www.whocc.no/atc',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  allergyClinical: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  allergyVerification: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  appointmentType: 'http://terminology.hl7.org/CodeSystem/v2-0276',
  communicationCategory: 'http://terminology.hl7.org/CodeSystem/communication-category',
} as const;

export type ObservationCategory = 'vital-signs' | 'laboratory' | 'activity';

export interface MeasurementKind {
  loinc: string;
  /** French label (the `display` of the code). */
  display: string;
  /**
   * A narrower LOINC code of the same measurement, coded beside `loinc` (SpO2: pulse oximetry's
   * 59408-5 beside 2708-6, which the R4 oxygen-saturation profile requires). An app may send
   * it alone: `loinc` is then added.
   */
  narrower?: { loinc: string; display: string };
  category: ObservationCategory;
  /** UCUM unit code the value must be in, and how it is shown. */
  unit: { code: string; display: string };
  /** Plausible range of a value, for validation and for the generator. */
  range: [number, number];
  /** For a panel (blood pressure), its components instead of one value. */
  components?: { loinc: string; display: string; range: [number, number] }[];
}

/** Measurements an app may read and write (devices: scales, blood-pressure cuffs, watches…), by LOINC code. */
export const measurements: Record<string, MeasurementKind> = {
  '29463-7': { loinc: '29463-7', display: 'Poids', category: 'vital-signs', unit: { code: 'kg', display: 'kg' }, range: [0.3, 400] },
  '8302-2': { loinc: '8302-2', display: 'Taille', category: 'vital-signs', unit: { code: 'cm', display: 'cm' }, range: [20, 260] },
  '85354-9': {
    loinc: '85354-9',
    display: 'Pression artérielle',
    category: 'vital-signs',
    unit: { code: 'mm[Hg]', display: 'mmHg' },
    range: [20, 300],
    components: [
      { loinc: '8480-6', display: 'Pression artérielle systolique', range: [50, 300] },
      { loinc: '8462-4', display: 'Pression artérielle diastolique', range: [20, 200] },
    ],
  },
  '8867-4': { loinc: '8867-4', display: 'Fréquence cardiaque', category: 'vital-signs', unit: { code: '/min', display: 'battements/min' }, range: [20, 250] },
  '8310-5': { loinc: '8310-5', display: 'Température corporelle', category: 'vital-signs', unit: { code: 'Cel', display: '°C' }, range: [30, 45] },
  '2708-6': {
    loinc: '2708-6',
    display: 'Saturation en oxygène',
    narrower: { loinc: '59408-5', display: 'Saturation en oxygène par oxymétrie de pouls (SpO2)' },
    category: 'vital-signs',
    unit: { code: '%', display: '%' },
    range: [50, 100],
  },
  '2339-0': { loinc: '2339-0', display: 'Glycémie', category: 'laboratory', unit: { code: 'mg/dL', display: 'mg/dL' }, range: [10, 1000] },
  '55423-8': { loinc: '55423-8', display: 'Nombre de pas', category: 'activity', unit: { code: '{steps}/d', display: 'pas/jour' }, range: [0, 100_000] },
};

/** The measurement a LOINC code names, by its own code or its narrower one. */
export function measurementOf(loinc: string): MeasurementKind | undefined {
  return Object.values(measurements).find((kind) => kind.loinc === loinc || kind.narrower?.loinc === loinc);
}

/** Laboratory results the sandbox's records hold (read-only for apps). */
export const laboratoryResults: Record<string, { display: string; unit: { code: string; display: string }; range: [number, number] }> = {
  '4548-4': { display: 'Hémoglobine glyquée (HbA1c)', unit: { code: '%', display: '%' }, range: [4.5, 11] },
  '2093-3': { display: 'Cholestérol total', unit: { code: 'mg/dL', display: 'mg/dL' }, range: [120, 320] },
  '2160-0': { display: 'Créatinine', unit: { code: 'mg/dL', display: 'mg/dL' }, range: [0.5, 1.6] },
};

/** Document types (LOINC) a document may have, with the French title of the type. */
export const documentTypes: Record<string, string> = {
  '11488-4': 'Compte rendu de consultation',
  '18842-5': 'Lettre de liaison de sortie d’hospitalisation',
  '11502-2': 'Compte rendu d’examens biologiques',
  '18748-4': 'Compte rendu d’imagerie médicale',
  '57833-6': 'Ordonnance',
  '34133-9': 'Synthèse médicale',
};

/** Largest document an app may deposit (the PDF itself, before base64). */
export const MAX_DOCUMENT_BYTES = 2 * 1024 * 1024;
/** Media types a deposited document may have. */
export const documentContentTypes = ['application/pdf'] as const;

export interface Vaccine {
  atc: string;
  display: string;
  /** Diseases it protects against (French), for `protocolApplied.targetDisease`. */
  targets: string[];
}

/** Vaccines of the French schedule (calendrier des vaccinations), by ATC code. */
export const vaccines: Record<string, Vaccine> = {
  J07CA09: { atc: 'J07CA09', display: 'Vaccin hexavalent DTCaP-Hib-HepB', targets: ['diphtérie', 'tétanos', 'coqueluche', 'poliomyélite', 'Haemophilus influenzae b', 'hépatite B'] },
  J07AL02: { atc: 'J07AL02', display: 'Vaccin pneumococcique conjugué', targets: ['pneumocoque'] },
  J07AH08: { atc: 'J07AH08', display: 'Vaccin méningococcique ACWY conjugué', targets: ['méningocoques A, C, W, Y'] },
  J07AH09: { atc: 'J07AH09', display: 'Vaccin méningococcique B', targets: ['méningocoque B'] },
  J07BD52: { atc: 'J07BD52', display: 'Vaccin rougeole-oreillons-rubéole (ROR)', targets: ['rougeole', 'oreillons', 'rubéole'] },
  J07CA02: { atc: 'J07CA02', display: 'Vaccin DTCaP (rappel)', targets: ['diphtérie', 'tétanos', 'coqueluche', 'poliomyélite'] },
  J07BM03: { atc: 'J07BM03', display: 'Vaccin papillomavirus humain (9-valent)', targets: ['papillomavirus humains'] },
  J07CA01: { atc: 'J07CA01', display: 'Vaccin dTP (rappel de l’adulte)', targets: ['diphtérie', 'tétanos', 'poliomyélite'] },
  J07BB02: { atc: 'J07BB02', display: 'Vaccin contre la grippe saisonnière', targets: ['grippe'] },
  J07BN01: { atc: 'J07BN01', display: 'Vaccin contre la Covid-19 (ARNm)', targets: ['Covid-19'] },
};

export interface ConditionKind {
  icd10: string;
  display: string;
  /** What a patient with it is likely to measure and take, for the generator. */
  measures?: string[];
  medications?: string[];
}

/** Conditions (CIM-10) of the sandbox's records. */
export const conditions: Record<string, ConditionKind> = {
  I10: { icd10: 'I10', display: 'Hypertension artérielle essentielle', measures: ['85354-9', '8867-4'], medications: ['C09AA05', 'C07AB07'] },
  E11: { icd10: 'E11', display: 'Diabète de type 2', measures: ['2339-0', '29463-7'], medications: ['A10BA02'] },
  E78: { icd10: 'E78', display: 'Hypercholestérolémie', medications: ['C10AA05'] },
  J45: { icd10: 'J45', display: 'Asthme', measures: ['2708-6'], medications: ['R03AC02'] },
  E03: { icd10: 'E03', display: 'Hypothyroïdie', medications: ['H03AA01'] },
  F32: { icd10: 'F32', display: 'Épisode dépressif', medications: ['N06AB06'] },
  K21: { icd10: 'K21', display: 'Reflux gastro-œsophagien', medications: ['A02BC01'] },
  G43: { icd10: 'G43', display: 'Migraine', medications: ['N02BE01'] },
  J30: { icd10: 'J30', display: 'Rhinite allergique', medications: ['R06AE07'] },
  E66: { icd10: 'E66', display: 'Obésité', measures: ['29463-7', '55423-8'] },
};

export interface AllergyKind {
  snomed: string;
  display: string;
  category: 'medication' | 'food' | 'environment';
  criticality: 'low' | 'high';
  reaction: string;
}

/** Allergies (SNOMED CT) of the sandbox's records. */
export const allergies: Record<string, AllergyKind> = {
  '91936005': { snomed: '91936005', display: 'Allergie à la pénicilline', category: 'medication', criticality: 'high', reaction: 'Urticaire généralisée' },
  '294505008': { snomed: '294505008', display: 'Allergie à l’amoxicilline', category: 'medication', criticality: 'high', reaction: 'Éruption cutanée' },
  '91935009': { snomed: '91935009', display: 'Allergie à l’arachide', category: 'food', criticality: 'high', reaction: 'Œdème de Quincke' },
  '91934008': { snomed: '91934008', display: 'Allergie aux fruits à coque', category: 'food', criticality: 'high', reaction: 'Gonflement des lèvres' },
  '300916003': { snomed: '300916003', display: 'Allergie au latex', category: 'environment', criticality: 'low', reaction: 'Eczéma de contact' },
  '418689008': { snomed: '418689008', display: 'Allergie aux pollens de graminées', category: 'environment', criticality: 'low', reaction: 'Rhinite, conjonctivite' },
  '232347008': { snomed: '232347008', display: 'Allergie aux acariens', category: 'environment', criticality: 'low', reaction: 'Rhinite' },
};

/** Medicines (ATC) of the sandbox's records, with the usual dosage (French). */
export const medications: Record<string, { display: string; dosage: string }> = {
  C09AA05: { display: 'Ramipril 5 mg', dosage: '1 comprimé le matin' },
  C07AB07: { display: 'Bisoprolol 5 mg', dosage: '1 comprimé le matin' },
  A10BA02: { display: 'Metformine 1000 mg', dosage: '1 comprimé matin et soir, au cours des repas' },
  C10AA05: { display: 'Atorvastatine 20 mg', dosage: '1 comprimé le soir' },
  R03AC02: { display: 'Salbutamol 100 µg/dose, inhalation', dosage: '1 à 2 bouffées en cas de gêne respiratoire' },
  H03AA01: { display: 'Lévothyroxine 75 µg', dosage: '1 comprimé le matin à jeun' },
  N06AB06: { display: 'Sertraline 50 mg', dosage: '1 comprimé par jour' },
  A02BC01: { display: 'Oméprazole 20 mg', dosage: '1 gélule le matin avant le repas' },
  N02BE01: { display: 'Paracétamol 1 g', dosage: '1 comprimé si besoin, 4 par jour au plus' },
  R06AE07: { display: 'Cétirizine 10 mg', dosage: '1 comprimé par jour pendant la saison des pollens' },
};
