// What `triggerSandboxEvent` writes into a synthetic patient's record: one resource of the kind a
// notification topic is about, as the care team, the patient or a device would add it, checked
// by the same rules as the API's writes. The caller writes it and queues its notifications in one
// transaction.
import type { components } from '@mes/openapi';
import { messageFromPatient, validateDocumentReference, validateObservation, vocabulary, type FhirResource } from '../records/index.js';

type Schemas = components['schemas'];
export type SandboxTopic = Schemas['SandboxEventInput']['topic'];

/** A small but real PDF: the consultation report's file. */
const REPORT_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

const HOUR = 3_600_000;

/**
 * The resource of a topic for `patientId`, at `now`, and the app whose conversation it belongs
 * to (a message the patient writes to the client's app).
 */
export function sandboxEventResource(topic: SandboxTopic, patientId: string, appId: string, now = new Date()): { resource: FhirResource; sourceAppId?: string } {
  const subject = { reference: `Patient/${patientId}` };
  switch (topic) {
    case 'new-document':
      return {
        resource: validateDocumentReference(
          {
            resourceType: 'DocumentReference',
            status: 'current',
            type: { coding: [{ system: vocabulary.systems.loinc, code: '11488-4', display: 'Compte rendu de consultation' }] },
            subject,
            description: 'Compte rendu de consultation (bac à sable)',
            content: [{ attachment: { contentType: 'application/pdf', title: 'Compte rendu de consultation', data: REPORT_PDF.toString('base64') } }],
          },
          patientId,
          now,
        ),
      };
    case 'appointment': {
      // A week ahead, on a quarter hour (chosen by the clock's milliseconds): the practice books
      // its own agenda, so no overlap with the patient's other appointments is checked.
      const start = new Date(Math.ceil((now.getTime() + 7 * 24 * HOUR) / HOUR) * HOUR + (now.getTime() % 4) * 15 * 60_000);
      return {
        resource: {
          resourceType: 'Appointment',
          status: 'booked',
          description: 'Consultation de suivi (bac à sable)',
          start: start.toISOString(),
          end: new Date(start.getTime() + 20 * 60_000).toISOString(),
          created: now.toISOString(),
          participant: [
            { actor: subject, status: 'accepted' },
            { actor: { display: 'Dr Claire Martin, médecin généraliste' }, status: 'accepted' },
          ],
        },
      };
    }
    case 'new-message':
      return {
        resource: messageFromPatient({ patientId, appName: 'sandbox', text: 'Bonjour, j’ai une question sur mon traitement : puis-je le prendre le soir ?', now }),
        sourceAppId: appId,
      };
    case 'new-measurement':
      return {
        resource: validateObservation(
          {
            resourceType: 'Observation',
            status: 'final',
            category: [{ coding: [{ system: vocabulary.systems.observationCategory, code: 'vital-signs' }] }],
            code: { coding: [{ system: vocabulary.systems.loinc, code: '29463-7', display: 'Poids' }] },
            subject,
            effectiveDateTime: now.toISOString(),
            valueQuantity: { value: 60 + (now.getTime() % 300) / 10, system: vocabulary.systems.ucum, code: 'kg' },
          },
          patientId,
          now,
        ),
      };
  }
}
