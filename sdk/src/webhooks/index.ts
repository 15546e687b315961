// `@mes/sdk/webhooks`: what an app's webhook handler uses to check and read a notification of its
// FHIR subscriptions. The signature (X-Mes-Signature) is a JWS with a detached payload over the
// body's exact bytes, ES256 with a key of the platform's /jwks.json (fetched and cached here).
// WebCrypto only: Node >= 20 and browsers alike. An app that only calls the API does not import it.
/**
 * Verifies and parses the notifications of FHIR subscriptions in an app's webhook handler.
 * @module
 */

/** The signature header the platform sends with each notification. */
export const SIGNATURE_HEADER = 'x-mes-signature';
/** The `typ` of the signature's protected header. */
export const NOTIFICATION_SIGNATURE_TYPE = 'mes-notification+jws';

export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification';

export interface NotificationEvent {
  eventNumber: number;
  timestamp: string;
  /** The resource the event is about, as an absolute URL (`<fhir base>/DocumentReference/123`). */
  focus: string;
  /** `focus` as a type and id, to read with `client.fhir.read(type, id)`. */
  resourceType: string;
  id: string;
}

/** A verified notification. */
export interface Notification {
  subscriptionId: string;
  /** The subscription's URL. */
  subscription: string;
  /** The topic's canonical URL, and its last segment (`new-document`). */
  topicUrl: string;
  topic: string;
  type: NotificationType;
  status: string;
  eventsSinceSubscriptionStart: number;
  events: NotificationEvent[];
  /** The notification's id (the signature's `jti`): remember it to refuse a replay. */
  id: string;
  /** When it was signed. */
  signedAt: Date;
  /** The Bundle as received. */
  bundle: unknown;
}

export type VerificationFailure = 'missing_signature' | 'malformed' | 'unsupported_algorithm' | 'unknown_key' | 'bad_signature' | 'wrong_issuer' | 'wrong_audience' | 'expired' | 'not_a_notification';

/** A notification that does not verify: reject it (answer 400 or 401) and do not act on it. */
export class NotificationVerificationError extends Error {
  override name = 'NotificationVerificationError';
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
  }
}

interface Jwk {
  kty: string;
  kid?: string;
  crv?: string;
  x?: string;
  y?: string;
  alg?: string;
  [member: string]: unknown;
}

export interface VerifyOptions {
  /** The platform's issuer (e.g. `https://api.monespacesante.fr`); its `/jwks.json` is fetched. */
  issuer: string;
  /** The app's OAuth client id: a notification signed for another app is refused. */
  clientId: string;
  /** Keys to use instead of fetching `<issuer>/jwks.json` (a JWK Set). */
  jwks?: { keys: Jwk[] };
  /** Oldest signature accepted, in seconds (300 by default). */
  maxAgeSeconds?: number;
  /** Fetch to get the key set with (globalThis.fetch by default). */
  fetch?: (input: string) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;
  /** The clock, in milliseconds (Date.now by default). */
  now?: () => number;
}

/** What the handler received: a Fetch API Request, or the headers and the body's raw bytes. */
export type ReceivedNotification =
  | Request
  | { headers: Headers | Record<string, string | string[] | undefined>; body: string | Uint8Array | ArrayBuffer };

const fail = (reason: VerificationFailure, message: string): never => {
  throw new NotificationVerificationError(reason, message);
};

function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) fail('malformed', 'the signature is not base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '='));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function headerOf(headers: Headers | Record<string, string | string[] | undefined>, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

const keySets = new Map<string, { at: number; keys: Jwk[] }>();
/** A key set is fetched again after this long, or when a kid is unknown (at most every 30 s). */
const KEYS_MAX_AGE_MS = 10 * 60_000;
const REFETCH_MIN_MS = 30_000;

async function keyFor(kid: string, options: VerifyOptions, now: number): Promise<Jwk> {
  if (options.jwks) return options.jwks.keys.find((key) => key.kid === kid) ?? fail('unknown_key', `no key ${kid} in the key set given`);
  const url = `${options.issuer.replace(/\/+$/, '')}/jwks.json`;
  let cached = keySets.get(url);
  const stale = !cached || now - cached.at > KEYS_MAX_AGE_MS || (!cached.keys.some((key) => key.kid === kid) && now - cached.at > REFETCH_MIN_MS);
  if (stale) {
    const answer = await (options.fetch ?? ((input: string) => fetch(input)))(url);
    if (!answer.ok) throw new Error(`fetching ${url} answered ${answer.status}`);
    const set = (await answer.json()) as { keys?: Jwk[] };
    cached = { at: now, keys: Array.isArray(set.keys) ? set.keys : [] };
    keySets.set(url, cached);
  }
  return cached!.keys.find((key) => key.kid === kid) ?? fail('unknown_key', `the platform publishes no key ${kid}`);
}

type Parameter = { name: string; valueString?: string; valueCode?: string; valueCanonical?: string; valueInstant?: string; valueReference?: { reference?: string }; part?: Parameter[] };

/**
 * Verifies a notification (its signature over the exact body, the key of the platform, the
 * audience, the issuer, the age) and returns it parsed. Throws NotificationVerificationError when
 * it does not verify. Pass the raw body: parsing and re-serializing JSON changes the bytes.
 */
export async function verifyNotification(received: ReceivedNotification, options: VerifyOptions): Promise<Notification> {
  const isRequest = typeof Request !== 'undefined' && received instanceof Request;
  const headers = isRequest ? received.headers : (received as Exclude<ReceivedNotification, Request>).headers;
  const raw = isRequest ? new Uint8Array(await received.arrayBuffer()) : (received as Exclude<ReceivedNotification, Request>).body;
  const body = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw instanceof Uint8Array ? raw : new Uint8Array(raw);
  const signature = headerOf(headers, SIGNATURE_HEADER) ?? fail('missing_signature', `no ${SIGNATURE_HEADER} header`);
  const parts = signature.split('.');
  if (parts.length !== 3 || parts[1] !== '') fail('malformed', 'the signature is not a detached JWS (<header>..<signature>)');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(base64UrlBytes(parts[0]!))) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof NotificationVerificationError) throw error;
    return fail('malformed', 'the signature header is not JSON');
  }
  if (header.typ !== NOTIFICATION_SIGNATURE_TYPE) fail('malformed', `typ ${String(header.typ)} is not ${NOTIFICATION_SIGNATURE_TYPE}`);
  if (header.alg !== 'ES256') fail('unsupported_algorithm', `alg ${String(header.alg)} is not ES256`);
  if (typeof header.kid !== 'string') fail('malformed', 'the signature names no kid');
  const now = (options.now ?? Date.now)();
  const jwk = await keyFor(header.kid as string, options, now);
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') fail('unsupported_algorithm', `key ${String(header.kid)} is not a P-256 key`);
  const key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const signingInput = new TextEncoder().encode(`${parts[0]}.${base64Url(body)}`);
  const valid = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, base64UrlBytes(parts[2]!), signingInput);
  if (!valid) fail('bad_signature', 'the signature does not verify over this body');
  if (header.iss !== options.issuer.replace(/\/+$/, '')) fail('wrong_issuer', `signed by ${String(header.iss)}, not ${options.issuer}`);
  if (header.aud !== options.clientId) fail('wrong_audience', `signed for client ${String(header.aud)}, not ${options.clientId}`);
  const iat = typeof header.iat === 'number' ? header.iat : fail('malformed', 'the signature has no iat');
  const age = now / 1000 - iat;
  if (age > (options.maxAgeSeconds ?? 300) || age < -60) fail('expired', `signed ${Math.round(age)} s ago`);

  const bundle = JSON.parse(new TextDecoder().decode(body)) as { resourceType?: string; type?: string; entry?: { resource?: { resourceType?: string; parameter?: Parameter[] } }[] };
  const status = bundle.resourceType === 'Bundle' && bundle.type === 'history' ? bundle.entry?.[0]?.resource : undefined;
  if (status?.resourceType !== 'Parameters' || !Array.isArray(status.parameter)) return fail('not_a_notification', 'the body is not a notification Bundle');
  const one = (name: string) => status.parameter!.find((parameter) => parameter.name === name);
  const subscription = one('subscription')?.valueReference?.reference ?? '';
  const subscriptionId = subscription.split('/').pop() ?? '';
  if (subscriptionId !== header.sub) fail('not_a_notification', `the body names subscription ${subscriptionId}, the signature ${String(header.sub)}`);
  const topicUrl = one('topic')?.valueCanonical ?? '';
  const events = status.parameter
    .filter((parameter) => parameter.name === 'notification-event')
    .map((event) => {
      const part = (name: string) => event.part?.find((candidate) => candidate.name === name);
      const focus = part('focus')?.valueReference?.reference ?? '';
      const [resourceType = '', id = ''] = focus.split('/').slice(-2);
      return { eventNumber: Number(part('event-number')?.valueString), timestamp: part('timestamp')?.valueInstant ?? '', focus, resourceType, id };
    });
  return {
    subscriptionId,
    subscription,
    topicUrl,
    topic: topicUrl.split('/').pop() ?? '',
    type: one('type')?.valueCode as NotificationType,
    status: one('status')?.valueCode ?? '',
    eventsSinceSubscriptionStart: Number(one('events-since-subscription-start')?.valueString ?? 0),
    events,
    id: String(header.jti ?? ''),
    signedAt: new Date(iat * 1000),
    bundle,
  };
}
