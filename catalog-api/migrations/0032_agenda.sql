-- Apps write appointments: each resource remembers the app that wrote it (NULL for what the record
-- received from elsewhere: care professionals, the sandbox's synthetic data), so that an app changes
-- only its own bookings and "Mon agenda" can say which app added each. A nullable column without
-- a default: adding it rewrites nothing.
ALTER TABLE fhir_resources ADD COLUMN source_app_id text;

-- The access history records updates too. The new rule is wider than the old one, so the rows
-- already there need no check (NOT VALID: no scan of a table that holds years of history).
ALTER TABLE access_history DROP CONSTRAINT access_history_interaction_check;
ALTER TABLE access_history ADD CONSTRAINT access_history_interaction_check CHECK (interaction IN ('read', 'search', 'create', 'update')) NOT VALID;
