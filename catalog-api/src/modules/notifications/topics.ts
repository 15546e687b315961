// The subscription topics the platform offers: what event each stands for, the resource type an
// app must be able to read to subscribe to it, and how a patient's page names it. Canonical URLs
// are under the server's FHIR base: `<issuer>/fhir/SubscriptionTopic/<name>`.
import type { ResourceType } from '../oauth/index.js';

export type TopicName = 'new-document' | 'appointment' | 'new-message' | 'new-measurement';
export type TopicInteraction = 'create' | 'update';

export interface Topic {
  name: TopicName;
  /** The resource type of the event's focus (what the app reads when notified). */
  resourceType: ResourceType | 'Communication';
  /** The interactions on it that are events of the topic. */
  interactions: readonly TopicInteraction[];
  /** The topic in plain words, for the patient's pages. */
  label: { fr: string; en: string };
}

export const topics: readonly Topic[] = [
  { name: 'new-document', resourceType: 'DocumentReference', interactions: ['create'], label: { fr: 'un nouveau document', en: 'a new document' } },
  { name: 'appointment', resourceType: 'Appointment', interactions: ['create', 'update'], label: { fr: 'un rendez-vous pris ou modifié', en: 'a new or changed appointment' } },
  { name: 'new-message', resourceType: 'Communication', interactions: ['create'], label: { fr: 'un nouveau message', en: 'a new message' } },
  { name: 'new-measurement', resourceType: 'Observation', interactions: ['create'], label: { fr: 'une nouvelle mesure', en: 'a new measurement' } },
];

const byName = new Map<string, Topic>(topics.map((topic) => [topic.name, topic]));

export const topicUrl = (fhirBase: string, name: TopicName) => `${fhirBase}/SubscriptionTopic/${name}`;

/** Every topic's canonical URL at this FHIR base (the CapabilityStatement lists them). */
export const topicUrls = (fhirBase: string) => topics.map((topic) => topicUrl(fhirBase, topic.name));

/** The topic a canonical URL names at this FHIR base (a `|version` suffix is ignored), or null. */
export function topicOfUrl(fhirBase: string, url: string): Topic | null {
  const prefix = `${fhirBase}/SubscriptionTopic/`;
  const bare = url.split('|')[0]!;
  return bare.startsWith(prefix) ? (byName.get(bare.slice(prefix.length)) ?? null) : null;
}

export const topicNamed = (name: string): Topic | null => byName.get(name) ?? null;

/** The topics an interaction on a resource type is an event of. */
export function topicsOfEvent(resourceType: string, interaction: TopicInteraction): TopicName[] {
  return topics.filter((topic) => topic.resourceType === resourceType && topic.interactions.includes(interaction)).map((topic) => topic.name);
}
