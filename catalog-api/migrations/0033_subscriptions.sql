-- FHIR Subscriptions (R5 Backport IG on R4): an app, under one grant, asks to be told when a
-- topic's event happens in its patient's record. Events are written to an outbox in the same
-- transaction as the resource (one row per subscription per event), and delivered by a worker
-- that claims due rows with FOR UPDATE SKIP LOCKED and a lease, so that several instances on one
-- PostgreSQL deliver each event once (at least once: an expired lease is claimed again).

-- Where an app may receive notifications (HTTPS URLs; a subscription's endpoint is one of them or under one).
ALTER TABLE apps ADD COLUMN notification_endpoints text[] NOT NULL DEFAULT '{}';

CREATE TABLE subscriptions (
  id uuid PRIMARY KEY,
  app_id uuid NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  -- A subscription lives under its grant: it ends when the grant does (and goes with it).
  grant_id uuid NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  patient_id text NOT NULL,
  -- The scopes of the token that subscribed: an event is queued only when they let the app read its focus.
  scope text NOT NULL,
  -- The topic's short name (new-document, appointment, new-message, new-measurement).
  topic text NOT NULL,
  -- The backport's filter criteria as given (only the patient's own compartment is accepted).
  filter text,
  endpoint text NOT NULL,
  -- The FHIR base the subscription was made at: notifications name resources under it.
  fhir_base text NOT NULL,
  heartbeat_seconds integer CHECK (heartbeat_seconds IS NULL OR heartbeat_seconds > 0),
  status text NOT NULL CHECK (status IN ('requested', 'active', 'error', 'off')),
  -- Why it is in error or off, in plain words.
  status_reason text,
  reason text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,
  -- Events since the subscription started (each gets the next number).
  events_count bigint NOT NULL DEFAULT 0,
  -- When something was last sent (a heartbeat is due heartbeat_seconds after it).
  last_sent_at timestamptz NOT NULL DEFAULT now(),
  -- Heartbeats are claimed like outbox rows: only one instance sends each.
  heartbeat_lease_until timestamptz
);
-- The enqueue path: the subscriptions of a patient and topic still running.
CREATE INDEX subscriptions_patient_topic ON subscriptions (patient_id, topic) WHERE status IN ('active', 'error');
CREATE INDEX subscriptions_grant ON subscriptions (grant_id) WHERE status <> 'off';
CREATE INDEX subscriptions_heartbeat ON subscriptions (last_sent_at) WHERE status IN ('active', 'error') AND heartbeat_seconds IS NOT NULL;
CREATE INDEX subscriptions_ended ON subscriptions (ended_at) WHERE status = 'off';

-- The outbox: one row per subscription per event (or per handshake).
CREATE TABLE subscription_events (
  subscription_id uuid NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  event_number bigint NOT NULL,
  -- 'event-notification' or 'handshake'.
  kind text NOT NULL CHECK (kind IN ('event-notification', 'handshake')),
  -- e.g. DocumentReference/123 (relative to the subscription's FHIR base); null for a handshake.
  focus text,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_until timestamptz,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  finished_at timestamptz,
  PRIMARY KEY (subscription_id, event_number, kind)
);
CREATE INDEX subscription_events_due ON subscription_events (next_attempt_at) WHERE state = 'pending';
CREATE INDEX subscription_events_finished ON subscription_events (finished_at) WHERE state <> 'pending';

-- Each attempt to deliver to a subscription's endpoint (bounded by the sweep).
CREATE TABLE subscription_deliveries (
  id bigserial PRIMARY KEY,
  subscription_id uuid NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  attempted_at timestamptz NOT NULL DEFAULT now(),
  kind text NOT NULL,
  event_numbers bigint[] NOT NULL DEFAULT '{}',
  http_status integer,
  error_code text,
  duration_ms integer NOT NULL
);
CREATE INDEX subscription_deliveries_subscription ON subscription_deliveries (subscription_id, attempted_at DESC);
CREATE INDEX subscription_deliveries_attempted ON subscription_deliveries (attempted_at);

-- Instances wake at once when events are written elsewhere (core/store/changes.ts): on INSERT
-- only, so that a delivery marked done does not wake every other instance.
CREATE TRIGGER subscription_events_changed AFTER INSERT ON subscription_events
  FOR EACH STATEMENT EXECUTE FUNCTION mes_notify_change();
