// The mixed load of the cluster test: concurrent loops, each doing what one kind of app does, through
// the load balancer, until told to stop. Every HTTP exchange is recorded (when, which operation,
// and "ok" or why it failed); every create is recorded with its Idempotency-Key, its attempts and
// what the app was finally told, for the checks after the run.
//
// What each loop retries, as a careful app would:
// - a confidential client's refresh (its refresh token is not rotated): any failure without an
//   answer from the platform (no answer, 502, 503, 504), with a new assertion and proof;
// - a public client's refresh (rotated): the same, but a lost answer may have rotated the token:
//   sending it again is then a reuse, which ends the grant (invalid_grant); the app signs in again;
// - reads and searches: the same, and a proof refused as already used (the balancer sent the
//   request again after an instance had recorded its proof) gets a new proof;
// - creates: all of that with the same Idempotency-Key and body, and 409 (the first request with
//   the key is still running, or was on the instance that died) after its Retry-After.
import { authorize, failureKind, fhirRequest, heartRate, newIdempotencyKey, tokenRequest } from './app-client.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** An answer worth sending again: none came from the platform, or the balancer could not get one. */
const unanswered = (answer) => answer.status === 0 || answer.status === 502 || answer.status === 503 || answer.status === 504;
const proofReplayed = (answer) => answer.status === 401 && failureKind(answer).includes('(proof replayed)');

/** How long one operation may keep retrying: longer than a key reserved by a dead instance stays "in progress" (60 s). */
const OPERATION_LIMIT_MS = 120_000;

export function createLoad({ confidentialSessions, publicSessions, knownIds, now = () => performance.now() }) {
  const events = []; // { t, op, kind, target? }
  const creates = []; // see create()
  /** FHIR answers each patient's app received (2xx, not replayed): each is an access the history must hold. */
  const answeredAccesses = new Map();
  let stopAt = Infinity;
  let createCounter = 0;

  const record = (op, answer) => {
    const kind = answer.status >= 200 && answer.status < 300 ? 'ok' : failureKind(answer);
    events.push({ t: now(), op, kind });
    return kind;
  };
  const accessAnswered = (patient) => answeredAccesses.set(patient, (answeredAccesses.get(patient) ?? 0) + 1);

  /** Sends `send()` until it succeeds or may not be retried; resolves with the last answer and the attempts. */
  async function withRetries(op, send, retryable) {
    const started = now();
    let attempts = 0;
    for (;;) {
      const answer = await send();
      attempts += 1;
      record(op, answer);
      if (answer.status >= 200 && answer.status < 300) return { answer, attempts };
      if (!retryable(answer) || now() - started > OPERATION_LIMIT_MS) return { answer, attempts };
      const retryAfter = Number(answer.headers?.get('retry-after'));
      await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 100 + Math.random() * 100);
    }
  }

  const operations = { ok: 0, failed: [] };
  const done = (op, outcome, detail) => {
    if (outcome === 'ok') operations.ok += 1;
    else operations.failed.push({ op, kind: outcome, detail });
  };

  async function refreshConfidential(session) {
    const { answer } = await withRetries('refresh (confidential client)', () => tokenRequest(session.client, { grant_type: 'refresh_token', refresh_token: session.refreshToken }), unanswered);
    if (answer.status === 200) {
      session.accessToken = answer.json.access_token;
      session.obtainedAt = Date.now();
      done('refresh (confidential client)', 'ok');
    } else done('refresh (confidential client)', failureKind(answer));
  }

  /** Each public session is refreshed by one loop only: two refreshes of one rotated token at once would be a reuse. */
  async function refreshPublic(index) {
    const session = publicSessions[index];
    const op = 'refresh (public client)';
    let lostAnswer = false;
    const { answer } = await withRetries(
      op,
      () => tokenRequest(session.client, { grant_type: 'refresh_token', refresh_token: session.refreshToken }),
      (failed) => {
        if (unanswered(failed)) lostAnswer = true;
        return unanswered(failed);
      },
    );
    if (answer.status === 200) {
      session.accessToken = answer.json.access_token;
      session.refreshToken = answer.json.refresh_token;
      session.obtainedAt = Date.now();
      done(op, 'ok');
      return;
    }
    if (lostAnswer && answer.status === 400 && answer.json?.error === 'invalid_grant') {
      // The lost answer had rotated the token: sending it again was a reuse, which ended the grant.
      // The app signs the patient in again (in the sandbox, at once).
      done(op, 'grant ended: the rotated refresh token was sent again after its answer was lost', answer.json.error_description);
      publicSessions[index] = await signInAgain(session);
      return;
    }
    done(op, failureKind(answer));
  }

  /** A new grant for the session's patient, trying again for as long as an operation may. */
  async function signInAgain(session) {
    const started = now();
    for (;;) {
      try {
        const renewed = await authorize(session.client, session.patient);
        events.push({ t: now(), op: 'sign-in again (public client)', kind: 'ok' });
        return renewed;
      } catch (error) {
        events.push({ t: now(), op: 'sign-in again (public client)', kind: error.message.slice(0, 80) });
        if (now() - started > OPERATION_LIMIT_MS) throw error;
        await sleep(200);
      }
    }
  }

  async function read(session) {
    const ids = knownIds.get(session.patient);
    const id = ids[Math.floor(Math.random() * ids.length)];
    const { answer } = await withRetries('read', () => fhirRequest(session, 'GET', `/fhir/Observation/${id}`), (failed) => unanswered(failed) || proofReplayed(failed));
    if (answer.status === 200 && answer.json?.id === id) {
      accessAnswered(session.patient);
      done('read', 'ok');
    } else done('read', answer.status === 200 ? `200 with another resource (${answer.json?.id})` : failureKind(answer));
  }

  async function search(session) {
    const { answer } = await withRetries(
      'search',
      () => fhirRequest(session, 'GET', '/fhir/Observation?category=vital-signs&_sort=-date&_count=10'),
      (failed) => unanswered(failed) || proofReplayed(failed),
    );
    if (answer.status === 200 && answer.json?.resourceType === 'Bundle') {
      accessAnswered(session.patient);
      done('search', 'ok');
    } else done('search', failureKind(answer));
  }

  /**
   * One create, retried with its key until acknowledged (or the limit): recorded in `creates`. The
   * first attempt goes to `firstTarget` when given (an instance directly), the retries to the balancer.
   */
  async function create(session, phase = 'load', firstTarget) {
    createCounter += 1;
    const effectiveDateTime = new Date(Date.UTC(2026, 0, 1) + createCounter * 1000).toISOString();
    const entry = {
      key: newIdempotencyKey(),
      patient: session.patient,
      effectiveDateTime,
      phase,
      attempts: 0,
      kinds: [],
      acknowledged: false,
      replayed: false,
      id: null,
    };
    creates.push(entry);
    entry.firstSentAt = now();
    const body = heartRate(effectiveDateTime, 50 + (createCounter % 50));
    let sent = 0;
    const { answer, attempts } = await withRetries(
      firstTarget ? 'create (first sent to the instance killed)' : 'create',
      () => fhirRequest(session, 'POST', '/fhir/Observation', { body, headers: { 'idempotency-key': entry.key }, ...(sent++ === 0 && firstTarget ? { target: firstTarget } : {}) }),
      (failed) => {
        entry.kinds.push(failureKind(failed));
        return unanswered(failed) || proofReplayed(failed) || failed.status === 409;
      },
    );
    entry.attempts = attempts;
    entry.endedAt = now();
    if (answer.status === 201) {
      entry.acknowledged = true;
      entry.id = answer.json?.id ?? null;
      entry.replayed = answer.headers.get('idempotent-replayed') === 'true';
      if (!entry.replayed) accessAnswered(session.patient);
      if (entry.id) knownIds.get(session.patient).push(entry.id);
      done('create', 'ok');
    } else done('create', failureKind(answer));
    return entry;
  }

  /** A loop: `step()` again and again until the stop. */
  const loop = async (step) => {
    while (now() < stopAt) await step();
  };
  const pick = (list) => list[Math.floor(Math.random() * list.length)];

  return {
    events,
    creates,
    operations,
    answeredAccesses,
    create,
    /** Starts the loops; they stop starting new operations at `until` (a `now()` time). */
    run({ until, loops }) {
      stopAt = until;
      const workers = [];
      for (let i = 0; i < loops.refreshConfidential; i += 1) workers.push(loop(() => refreshConfidential(pick(confidentialSessions))));
      for (let i = 0; i < loops.refreshPublic; i += 1) {
        const own = publicSessions.map((_, index) => index).filter((index) => index % loops.refreshPublic === i);
        let next = 0;
        workers.push(loop(() => refreshPublic(own[next++ % own.length])));
      }
      for (let i = 0; i < loops.read; i += 1) workers.push(loop(() => read(pick(confidentialSessions))));
      for (let i = 0; i < loops.search; i += 1) workers.push(loop(() => search(pick(confidentialSessions))));
      for (let i = 0; i < loops.create; i += 1) workers.push(loop(() => create(pick(confidentialSessions))));
      return Promise.all(workers);
    },
    /**
     * Creates sent straight to one instance (`target`), `concurrency` at a time, until `stop()` is
     * called: those in flight when it dies are retried through the balancer with their key.
     */
    runDirect({ concurrency, target }) {
      let stopped = false;
      const workers = [];
      for (let i = 0; i < concurrency; i += 1) {
        workers.push(
          (async () => {
            while (!stopped) await create(pick(confidentialSessions), 'sent to the instance killed', target);
          })(),
        );
      }
      return {
        stop() {
          stopped = true;
        },
        done: Promise.all(workers),
      };
    },
    stop() {
      stopAt = 0;
    },
  };
}
