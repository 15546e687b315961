// Secure messaging: a message between the patient and the care team behind an app is a FHIR R4
// Communication. These are its rules, free of HTTP and SQL: who may be its sender and recipient,
// what its parts may be (text, or a PDF or an image of bounded size, checked to be what it says),
// and what the platform sets itself (the subject, the recipient when left out, `sent`).
import type { components } from '@mes/openapi';
import { FhirError } from '../../core/fhir-error.js';
import { checkAttachment, checkNoEmptyValue, checkSubject, refuse } from './validation.js';

export type Communication = components['schemas']['Communication'];
type Reference = components['schemas']['FhirReference'];

/** The file types a message may carry. */
export const messageContentTypes = ['application/pdf', 'image/png', 'image/jpeg'] as const;
/** One file of a message, and all of them together, at most (decoded). */
export const MAX_MESSAGE_FILE_BYTES = 2 * 1024 * 1024;
export const MAX_MESSAGE_BYTES = 3 * 1024 * 1024;
/** Who may speak for the care team behind an app. */
const careTeamTypes = ['Practitioner', 'PractitionerRole', 'Organization', 'CareTeam'];

const typeOf = (reference: string | undefined) => reference?.slice(0, reference.indexOf('/'));

/** The parts of a message: text or a file, each one of them, the files within their limits. */
export function checkPayload(payload: Communication['payload'], at = 'Communication.payload'): NonNullable<Communication['payload']> {
  if (!payload?.length) throw refuse('required', at, 'a message has at least one part: a text (contentString) or a file (contentAttachment)');
  let total = 0;
  return payload.map((part, i) => {
    const where = `${at}[${i}]`;
    if ((part.contentString === undefined) === (part.contentAttachment === undefined)) {
      throw refuse('invalid', where, 'a part is a text (contentString) or a file (contentAttachment), one of them');
    }
    if (part.contentString !== undefined) return part;
    const file = checkAttachment(part.contentAttachment!, `${where}.contentAttachment`, messageContentTypes, MAX_MESSAGE_FILE_BYTES);
    total += file.size;
    if (total > MAX_MESSAGE_BYTES) throw refuse('value', `${where}.contentAttachment`, `the message's files add up to more than ${MAX_MESSAGE_BYTES} bytes`);
    return { contentAttachment: file };
  });
}

/**
 * A message an app's care team sends to the token's patient, checked and completed; the caller
 * checks `inResponseTo` (a message of the same conversation) against the store.
 */
export function validateMessageFromApp(message: Communication, patientId: string, now = new Date()): Communication {
  checkNoEmptyValue(message, 'Communication');
  if (message.status !== 'completed') throw refuse('value', 'Communication.status', 'a message sent is completed');
  const sender = message.sender;
  if (!sender) throw refuse('required', 'Communication.sender', 'names who writes: the practitioner, the role or the organization (a reference or a display)');
  if (sender.reference !== undefined && !careTeamTypes.includes(typeOf(sender.reference)!)) {
    throw refuse('value', 'Communication.sender.reference', `an app writes for the care team (${careTeamTypes.join(', ')}), not as ${typeOf(sender.reference)}`);
  }
  const own = `Patient/${patientId}`;
  (message.recipient ?? []).forEach((recipient: Reference, i) => {
    if (typeOf(recipient.reference) === 'Patient' && recipient.reference !== own) {
      throw new FhirError(403, 'forbidden', `Communication.recipient[${i}]: a message may only be sent to the token's patient (${own})`, { expression: [`Communication.recipient[${i}]`] });
    }
    if (recipient.reference !== own) throw refuse('value', `Communication.recipient[${i}]`, `a message from an app goes to the patient (${own}) alone`);
  });
  if (message.received !== undefined) throw refuse('invalid', 'Communication.received', 'is for the recipient to say; leave it out');
  const { id: _id, meta: _meta, ...rest } = message;
  return {
    ...rest,
    subject: checkSubject(message.subject, patientId, 'Communication.subject'),
    recipient: [{ reference: own }],
    payload: checkPayload(message.payload),
    // The platform carries the message: it was sent when the platform received it.
    sent: now.toISOString(),
  };
}

/** A message the patient writes on their pages to the care team of an app. */
export function messageFromPatient(options: { patientId: string; appName: string; text: string; inResponseTo?: string; now?: Date }): Communication {
  const text = options.text.trim();
  if (text === '') throw refuse('required', 'Communication.payload', 'the message is empty');
  if (text.length > 10_000) throw refuse('value', 'Communication.payload', 'the message is longer than 10,000 characters');
  return {
    resourceType: 'Communication',
    status: 'completed',
    subject: { reference: `Patient/${options.patientId}` },
    sender: { reference: `Patient/${options.patientId}` },
    recipient: [{ display: options.appName }],
    ...(options.inResponseTo ? { inResponseTo: [{ reference: `Communication/${options.inResponseTo}` }] } : {}),
    sent: (options.now ?? new Date()).toISOString(),
    payload: [{ contentString: text }],
  };
}
