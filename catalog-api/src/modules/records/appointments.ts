// The rules of the patient's agenda, free of HTTP and SQL: what a new appointment must be, how an
// appointment's status may change (FHIR R4's Appointment life: proposed → pending → booked →
// arrived/checked-in → fulfilled, or cancelled, no-show, entered-in-error), what a reschedule must
// respect, and when two appointments overlap. Each refusal is a FhirError naming the element.
import type { components } from '@mes/openapi';
import { FhirError } from '../../core/fhir-error.js';
import { checkNoEmptyValue, FUTURE_TOLERANCE_MS } from './validation.js';

type Appointment = components['schemas']['Appointment'];
export type AppointmentStatus = Appointment['status'];
type Participant = NonNullable<Appointment['participant']>[number];

/** The statuses an app may give a new appointment. */
export const creatableStatuses: readonly AppointmentStatus[] = ['proposed', 'pending', 'booked'];

/** The statuses that hold a slot of the patient's time: another appointment may not overlap them. */
export const slotHoldingStatuses: readonly AppointmentStatus[] = ['pending', 'booked', 'arrived', 'checked-in'];

/** Where each status may go (itself included: a change of the other elements). Terminal statuses go nowhere. */
export const transitions: Readonly<Record<AppointmentStatus, readonly AppointmentStatus[]>> = {
  proposed: ['proposed', 'pending', 'booked', 'cancelled', 'entered-in-error'],
  pending: ['pending', 'booked', 'cancelled', 'entered-in-error'],
  waitlist: ['waitlist', 'pending', 'booked', 'cancelled', 'entered-in-error'],
  booked: ['booked', 'arrived', 'checked-in', 'fulfilled', 'noshow', 'cancelled', 'entered-in-error'],
  'checked-in': ['checked-in', 'arrived', 'fulfilled', 'entered-in-error'],
  arrived: ['arrived', 'fulfilled', 'entered-in-error'],
  cancelled: [],
  fulfilled: [],
  noshow: [],
  'entered-in-error': [],
};

/** Statuses that say the appointment has taken place (or not): only once it has started. */
const afterStart: readonly AppointmentStatus[] = ['arrived', 'checked-in', 'fulfilled', 'noshow'];
/** Statuses that may lack a start and an end (FHIR invariant app-3). */
const undated: readonly AppointmentStatus[] = ['proposed', 'cancelled', 'waitlist'];

/** The longest appointment an app may book, and how far ahead. */
export const MAX_APPOINTMENT_MS = 12 * 3_600_000;
export const MAX_AHEAD_MS = 2 * 365 * 86_400_000;

/** Reference types a participant's actor may name (FHIR R4 Appointment.participant.actor). */
const actorTypes = ['Patient', 'Practitioner', 'PractitionerRole', 'RelatedPerson', 'Device', 'HealthcareService', 'Location'];

const refuse = (code: 'invalid' | 'required' | 'value' | 'business-rule', expression: string, message: string) =>
  new FhirError(422, code, `${expression}: ${message}`, { expression: [expression] });

const time = (value: string | undefined) => (value === undefined ? undefined : new Date(value).getTime());

/** The participants, checked, with the token's patient among them (added, accepted, when absent). */
function checkParticipants(participants: readonly Participant[] | undefined, patientId: string): Participant[] {
  const own = `Patient/${patientId}`;
  let hasPatient = false;
  let others = 0;
  (participants ?? []).forEach((participant, i) => {
    const at = `Appointment.participant[${i}]`;
    const reference = participant.actor?.reference;
    if (!participant.actor && !participant.type) throw refuse('required', at, 'names its actor or its type (FHIR invariant app-1)');
    if (participant.status === undefined) throw refuse('required', `${at}.status`, 'is required (accepted, declined, tentative or needs-action)');
    if (reference !== undefined) {
      const type = reference.slice(0, reference.indexOf('/'));
      if (!actorTypes.includes(type)) throw refuse('value', `${at}.actor.reference`, `a participant is one of ${actorTypes.join(', ')}, not ${type}`);
      if (type === 'Patient') {
        if (reference !== own) {
          throw new FhirError(403, 'forbidden', `${at}.actor: an appointment may only be written for the token's patient (${own})`, { expression: [`${at}.actor`] });
        }
        hasPatient = true;
        return;
      }
    }
    others += 1;
  });
  if (others === 0) throw refuse('required', 'Appointment.participant', 'names who or what the appointment is with (a practitioner, a location or a service), besides the patient');
  return hasPatient ? [...participants!] : [{ actor: { reference: own }, status: 'accepted' }, ...participants!];
}

/** The period, checked: both bounds or neither, in order, not too long. */
function checkPeriod(appointment: Appointment): void {
  const start = time(appointment.start);
  const end = time(appointment.end);
  if ((start === undefined) !== (end === undefined)) {
    throw refuse('required', start === undefined ? 'Appointment.start' : 'Appointment.end', 'an appointment has both a start and an end, or neither (FHIR invariant app-2)');
  }
  if (start === undefined) {
    if (!undated.includes(appointment.status)) throw refuse('required', 'Appointment.start', `a ${appointment.status} appointment has a start and an end (FHIR invariant app-3)`);
    return;
  }
  if (end! <= start) throw refuse('value', 'Appointment.end', 'is not after the start');
  if (end! - start > MAX_APPOINTMENT_MS) throw refuse('value', 'Appointment.end', `the appointment lasts more than ${MAX_APPOINTMENT_MS / 3_600_000} hours`);
}

/** A new start (a booking, a reschedule) is in the future, and not years ahead. */
function checkUpcoming(appointment: Appointment, now: Date): void {
  const start = time(appointment.start);
  if (start === undefined) return;
  if (start < now.getTime() - FUTURE_TOLERANCE_MS) throw refuse('value', 'Appointment.start', `is in the past (${appointment.start}); an appointment is booked or moved to a time to come`);
  if (start > now.getTime() + MAX_AHEAD_MS) throw refuse('value', 'Appointment.start', 'is more than two years ahead');
}

/** Elements that only some statuses have. */
function checkStatusElements(appointment: Appointment): void {
  if (appointment.status === 'cancelled' && !appointment.cancelationReason) {
    throw refuse('required', 'Appointment.cancelationReason', 'a cancelled appointment says why (e.g. coding pat, prov or other of http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason, or a text)');
  }
  if (appointment.status !== 'cancelled' && appointment.cancelationReason) {
    throw refuse('invalid', 'Appointment.cancelationReason', `only a cancelled appointment has one (this one is ${appointment.status})`);
  }
}

/** A new appointment an app books, checked and completed (the patient as participant, `created`). */
export function validateNewAppointment(appointment: Appointment, patientId: string, now = new Date()): Appointment {
  checkNoEmptyValue(appointment, 'Appointment');
  if (!creatableStatuses.includes(appointment.status)) {
    throw refuse('value', 'Appointment.status', `a new appointment is ${creatableStatuses.join(', ')}; not ${appointment.status}`);
  }
  checkPeriod(appointment);
  checkUpcoming(appointment, now);
  checkStatusElements(appointment);
  const { id: _id, meta: _meta, ...rest } = appointment;
  return { ...rest, participant: checkParticipants(appointment.participant, patientId), created: appointment.created ?? now.toISOString() };
}

/**
 * A change of an appointment the app added: the new version, checked against the current one
 * (the transition, a reschedule to a time to come, statuses that need the start to have come).
 */
export function validateAppointmentChange(next: Appointment, current: Appointment, patientId: string, now = new Date()): Appointment {
  checkNoEmptyValue(next, 'Appointment');
  const allowed = transitions[current.status];
  if (allowed.length === 0) throw refuse('business-rule', 'Appointment.status', `a ${current.status} appointment no longer changes`);
  if (!allowed.includes(next.status)) {
    throw refuse('business-rule', 'Appointment.status', `a ${current.status} appointment may become ${allowed.filter((s) => s !== current.status).join(', ')}; not ${next.status}`);
  }
  checkPeriod(next);
  const moved = next.start !== current.start || next.end !== current.end;
  if (moved) {
    if (!creatableStatuses.includes(next.status) && next.status !== 'waitlist') {
      throw refuse('business-rule', 'Appointment.start', `a ${next.status} appointment keeps its time; reschedule it while it is booked, pending or proposed`);
    }
    checkUpcoming(next, now);
  }
  if (afterStart.includes(next.status) && next.status !== current.status) {
    const start = time(next.start);
    if (start !== undefined && start > now.getTime() + FUTURE_TOLERANCE_MS) throw refuse('business-rule', 'Appointment.status', `an appointment that has not started yet cannot be ${next.status}`);
  }
  checkStatusElements(next);
  const { meta: _meta, ...rest } = next;
  return { ...rest, participant: checkParticipants(next.participant, patientId), created: next.created ?? current.created ?? now.toISOString() };
}

/** Whether an appointment holds a slot, and which: [start, end) in milliseconds. */
export function slotOf(appointment: Pick<Appointment, 'status' | 'start' | 'end'>): [number, number] | null {
  if (!slotHoldingStatuses.includes(appointment.status) || appointment.start === undefined || appointment.end === undefined) return null;
  return [time(appointment.start)!, time(appointment.end)!];
}

/** Whether two slots overlap (one ending when the other starts does not). */
export const overlaps = (a: readonly [number, number], b: readonly [number, number]) => a[0] < b[1] && b[0] < a[1];
