// What an app may write, beyond the structure the spec's schemas check: measurements with a code
// the platform accepts, in its unit and category, with plausible values; documents of an accepted
// type whose attachment really is a PDF of the size and hash it claims. A write about another
// patient is refused. Each refusal is an OperationOutcome issue naming the element at fault.
// What follows from what was sent is filled in, so that a vital sign is stored as the R4
// vital-signs profiles want it: its subject, its units' text, SpO2's 2708-6 beside 59408-5.
import { createHash } from 'node:crypto';
import type { components } from '@mes/openapi';
import { FhirError } from '../../core/fhir-error.js';
import { documentContentTypes, documentTypes, MAX_DOCUMENT_BYTES, measurementOf, measurements, systems, type MeasurementKind } from './vocabulary.js';

type Observation = components['schemas']['Observation'];
type DocumentReference = components['schemas']['DocumentReference'];
type Quantity = components['schemas']['FhirQuantity'];
type CodeableConcept = components['schemas']['FhirCodeableConcept'];
type Attachment = components['schemas']['FhirAttachment'];

export const refuse = (code: 'invalid' | 'required' | 'value' | 'code-invalid', expression: string, message: string) =>
  new FhirError(422, code, `${expression}: ${message}`, { expression: [expression] });

/**
 * FHIR JSON has no empty values: a blank string, an empty array or an empty object is
 * refused wherever it is, rather than stored as a resource no FHIR client should have to read.
 */
export function checkNoEmptyValue(value: unknown, expression: string): void {
  const empty = typeof value === 'string' ? value.trim() === '' : Array.isArray(value) ? value.length === 0 : typeof value === 'object' && value !== null && Object.keys(value).length === 0;
  if (empty) throw new FhirError(400, 'invalid', `${expression}: is empty; FHIR has no empty values (leave the element out)`, { expression: [expression] });
  if (Array.isArray(value)) value.forEach((item, i) => checkNoEmptyValue(item, `${expression}[${i}]`));
  else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) checkNoEmptyValue(item, `${expression}.${key}`);
}

/** Writes may be dated at most this far in the future (device clocks drift). */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

export function checkSubject(subject: { reference?: string } | undefined, patientId: string, expression: string): { reference: string } {
  if (subject === undefined) return { reference: `Patient/${patientId}` };
  if (subject.reference !== `Patient/${patientId}`) {
    throw new FhirError(403, 'forbidden', `${expression}: a resource may only be written for the token's patient (Patient/${patientId})`, { expression: [expression] });
  }
  return { reference: subject.reference };
}

function checkDate(value: string | undefined, expression: string, now: Date): void {
  if (value === undefined) throw refuse('required', expression, 'is required');
  if (new Date(value).getTime() > now.getTime() + FUTURE_TOLERANCE_MS) throw refuse('value', expression, 'is in the future');
}

const codingOf = (concept: CodeableConcept | undefined, system: string) => concept?.coding?.find((coding) => coding.system === system);

/** The quantity, checked, with the unit's text when the app gave only its UCUM code. */
function checkQuantity(quantity: Quantity | undefined, unit: MeasurementKind['unit'], range: [number, number], expression: string): Quantity {
  if (!quantity) throw refuse('required', expression, 'is required');
  if (quantity.system !== systems.ucum || quantity.code !== unit.code) {
    throw refuse('code-invalid', expression, `must be in UCUM unit ${unit.code} (system ${systems.ucum}, code ${unit.code})`);
  }
  if (quantity.value < range[0] || quantity.value > range[1]) throw refuse('value', `${expression}.value`, `${quantity.value} is outside the plausible range ${range[0]}–${range[1]}`);
  return quantity.unit === undefined ? { ...quantity, unit: unit.display } : quantity;
}

const acceptedCodes = Object.values(measurements).flatMap((kind) => [kind.loinc, ...(kind.narrower ? [kind.narrower.loinc] : [])]);

/** A measurement an app deposits, checked and completed; throws FhirError when refused. */
export function validateObservation(observation: Observation, patientId: string, now = new Date()): Observation {
  checkNoEmptyValue(observation, 'Observation');
  if (!['final', 'preliminary', 'amended'].includes(observation.status)) {
    throw refuse('value', 'Observation.status', 'a measurement is final, preliminary or amended');
  }
  const coding = codingOf(observation.code, systems.loinc);
  if (!coding) throw refuse('required', 'Observation.code', `needs a LOINC coding (system ${systems.loinc})`);
  const kind = measurementOf(coding.code);
  if (!kind) {
    throw refuse('code-invalid', 'Observation.code', `LOINC ${coding.code} is not a measurement the platform accepts (${acceptedCodes.join(', ')})`);
  }
  const category = (observation.category ?? []).some((concept) => codingOf(concept, systems.observationCategory)?.code === kind.category);
  if (!category) throw refuse('required', 'Observation.category', `LOINC ${kind.loinc} is filed under category ${kind.category} (system ${systems.observationCategory})`);
  checkDate(observation.effectiveDateTime, 'Observation.effectiveDateTime', now);
  let values: Pick<Observation, 'valueQuantity' | 'component'>;
  if (kind.components) {
    if (observation.valueQuantity) throw refuse('invalid', 'Observation.valueQuantity', `a ${kind.display.toLowerCase()} has components, not one value`);
    const components = [...(observation.component ?? [])];
    for (const expected of kind.components) {
      const index = components.findIndex((c) => codingOf(c.code, systems.loinc)?.code === expected.loinc);
      if (index === -1) throw refuse('required', 'Observation.component', `needs a component with LOINC ${expected.loinc} (${expected.display})`);
      components[index] = { ...components[index]!, valueQuantity: checkQuantity(components[index]!.valueQuantity, kind.unit, expected.range, `Observation.component[${index}].valueQuantity`) };
    }
    if (components.length !== kind.components.length) throw refuse('invalid', 'Observation.component', `has exactly ${kind.components.length} components`);
    values = { component: components };
  } else {
    if (observation.component?.length) throw refuse('invalid', 'Observation.component', `LOINC ${kind.loinc} has one value, no components`);
    values = { valueQuantity: checkQuantity(observation.valueQuantity, kind.unit, kind.range, 'Observation.valueQuantity') };
  }
  const coded = observation.code.coding!.some((c) => c.system === systems.loinc && c.code === kind.loinc);
  return {
    ...observation,
    ...(coded ? {} : { code: { ...observation.code, coding: [...observation.code.coding!, { system: systems.loinc, code: kind.loinc, display: kind.display }] } }),
    ...values,
    subject: checkSubject(observation.subject, patientId, 'Observation.subject'),
  };
}

/** The first bytes of each file type the platform accepts: a file is what its content type says. */
const signatures: Record<string, { bytes: number[]; name: string }> = {
  'application/pdf': { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], name: 'a PDF (it does not start with %PDF-)' },
  'image/png': { bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], name: 'a PNG image (no PNG signature)' },
  'image/jpeg': { bytes: [0xff, 0xd8, 0xff], name: 'a JPEG image (no JPEG start of image)' },
};

/**
 * A file sent inline (`data`, base64): of one of `contentTypes`, really of that type, not empty, at
 * most `maxBytes`, with `size` and `hash` (SHA-1, base64) checked when given and filled in.
 */
export function checkAttachment(attachment: Attachment, at: string, contentTypes: readonly string[], maxBytes = MAX_DOCUMENT_BYTES): Attachment & { size: number; hash: string } {
  if (!contentTypes.includes(attachment.contentType)) throw refuse('code-invalid', `${at}.contentType`, `must be one of ${contentTypes.join(', ')}`);
  if (attachment.data === undefined) throw refuse('required', `${at}.data`, 'the file itself is required (base64); links to elsewhere are not accepted');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(attachment.data) || attachment.data.length % 4 !== 0) throw refuse('invalid', `${at}.data`, 'is not base64');
  const bytes = Buffer.from(attachment.data, 'base64');
  if (bytes.length === 0) throw refuse('value', `${at}.data`, 'is empty');
  if (bytes.length > maxBytes) throw refuse('value', `${at}.data`, `is ${bytes.length} bytes; at most ${maxBytes} are accepted`);
  const signature = signatures[attachment.contentType]!;
  if (!signature.bytes.every((byte, i) => bytes[i] === byte)) throw refuse('value', `${at}.data`, `is not ${signature.name}`);
  const hash = createHash('sha1').update(bytes).digest('base64');
  if (attachment.size !== undefined && attachment.size !== bytes.length) throw refuse('value', `${at}.size`, `is ${attachment.size}, the data has ${bytes.length} bytes`);
  if (attachment.hash !== undefined && attachment.hash !== hash) throw refuse('value', `${at}.hash`, 'is not the SHA-1 of the data');
  return { ...attachment, size: bytes.length, hash };
}

/**
 * A document an app deposits: an accepted LOINC type, a PDF attachment of at most 2 MiB whose
 * `size` and `hash`, when given, are the real ones (they are filled in when absent).
 */
export function validateDocumentReference(document: DocumentReference, patientId: string, now = new Date()): DocumentReference {
  checkNoEmptyValue(document, 'DocumentReference');
  if (document.status !== 'current') throw refuse('value', 'DocumentReference.status', 'a new document is current');
  const coding = codingOf(document.type, systems.loinc);
  if (!coding) throw refuse('required', 'DocumentReference.type', `needs a LOINC coding (system ${systems.loinc})`);
  if (!documentTypes[coding.code]) {
    throw refuse('code-invalid', 'DocumentReference.type', `LOINC ${coding.code} is not a document type the platform accepts (${Object.keys(documentTypes).join(', ')})`);
  }
  const attachment = checkAttachment(document.content[0]!.attachment, 'DocumentReference.content[0].attachment', documentContentTypes);
  if (document.date !== undefined) checkDate(document.date, 'DocumentReference.date', now);
  return {
    ...document,
    date: document.date ?? now.toISOString(),
    subject: checkSubject(document.subject, patientId, 'DocumentReference.subject'),
    content: [{ attachment }],
  };
}
