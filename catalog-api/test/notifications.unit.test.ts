// The pure rules of notifications: which endpoints a registration covers, the backoff between
// attempts, Retry-After, what is retried, which topics an event belongs to, and the Bundle sent.
import { describe, expect, it } from 'vitest';
import { notificationBundle, retryable, retryAfterMs, retryDelayMs } from '../src/modules/notifications/notification.js';
import { endpointRegistered } from '../src/modules/notifications/subscription-resource.js';
import { topicOfUrl, topicsOfEvent } from '../src/modules/notifications/topics.js';

describe('registered endpoints', () => {
  const registered = ['https://app.example/hooks', 'https://other.example/exact?tenant=1'];
  it.each([
    ['https://app.example/hooks', true],
    ['https://app.example/hooks/patient-42', true],
    ['https://app.example/hooks?x=1', true],
    ['https://app.example/hooksevil', false],
    ['https://app.example/', false],
    ['https://app.example:8443/hooks', false],
    ['http://app.example/hooks', false],
    ['https://user:pw@app.example/hooks', false],
    ['https://app.example/hooks#x', false],
    ['https://other.example/exact?tenant=1', true],
    ['https://other.example/exact?tenant=2', false],
    ['not a url', false],
  ])('%s → %s', (endpoint, expected) => {
    expect(endpointRegistered(endpoint, registered)).toBe(expected);
  });
});

describe('backoff', () => {
  const options = { baseMs: 1000, maxMs: 300_000 };
  it('doubles from the base with equal jitter, capped', () => {
    expect(retryDelayMs(1, { ...options, random: () => 0 })).toBe(500);
    expect(retryDelayMs(1, { ...options, random: () => 1 })).toBe(1000);
    expect(retryDelayMs(4, { ...options, random: () => 0.5 })).toBe(6000);
    expect(retryDelayMs(30, { ...options, random: () => 1 })).toBe(300_000);
    expect(retryDelayMs(1000, { ...options, random: () => 1 })).toBe(300_000);
  });
  it('honours a longer Retry-After, up to the cap', () => {
    expect(retryDelayMs(1, { ...options, random: () => 0, retryAfterMs: 20_000 })).toBe(20_000);
    expect(retryDelayMs(1, { ...options, random: () => 0, retryAfterMs: 3_600_000 })).toBe(300_000);
  });
  it('reads Retry-After in seconds or as a date', () => {
    expect(retryAfterMs('120')).toBe(120_000);
    expect(retryAfterMs(new Date(61_000).toUTCString(), 1_000)).toBe(60_000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(undefined)).toBeNull();
  });
  it('retries network errors, timeouts, 408, 429 and 5xx only', () => {
    expect([null, 408, 429, 500, 503].map(retryable)).toEqual([true, true, true, true, true]);
    expect([400, 401, 404, 410].map(retryable)).toEqual([false, false, false, false]);
  });
});

describe('topics', () => {
  it('maps events to topics and canonical URLs to topics of this server only', () => {
    expect(topicsOfEvent('DocumentReference', 'create')).toEqual(['new-document']);
    expect(topicsOfEvent('Appointment', 'update')).toEqual(['appointment']);
    expect(topicsOfEvent('DocumentReference', 'update')).toEqual([]);
    expect(topicOfUrl('https://mes.example/fhir', 'https://mes.example/fhir/SubscriptionTopic/new-message|1.0')?.name).toBe('new-message');
    expect(topicOfUrl('https://mes.example/fhir', 'https://evil.example/fhir/SubscriptionTopic/new-message')).toBeNull();
  });

  it('builds an id-only history Bundle whose first entry is the SubscriptionStatus', () => {
    const bundle = notificationBundle(
      { id: 's1', topic: 'new-document', fhirBase: 'https://mes.example/fhir', status: 'active', eventsCount: 3 },
      'event-notification',
      [{ eventNumber: 3, occurredAt: new Date('2026-12-01T10:00:00Z'), focus: 'DocumentReference/d1' }],
    );
    expect(bundle.type).toBe('history');
    expect((bundle.entry[0] as { resource: { parameter: unknown[] } }).resource.parameter).toEqual(
      expect.arrayContaining([
        { name: 'subscription', valueReference: { reference: 'https://mes.example/fhir/Subscription/s1' } },
        { name: 'topic', valueCanonical: 'https://mes.example/fhir/SubscriptionTopic/new-document' },
        { name: 'events-since-subscription-start', valueString: '3' },
        {
          name: 'notification-event',
          part: [
            { name: 'event-number', valueString: '3' },
            { name: 'timestamp', valueInstant: '2026-12-01T10:00:00.000Z' },
            { name: 'focus', valueReference: { reference: 'https://mes.example/fhir/DocumentReference/d1' } },
          ],
        },
      ]),
    );
    expect(bundle.entry[1]).toEqual({ fullUrl: 'https://mes.example/fhir/DocumentReference/d1', request: { method: 'POST', url: 'DocumentReference' }, response: { status: '201' } });
  });
});
