-- The patient-data store behind the FHIR API: one row per resource, in its patient's compartment.
-- Every query of the FHIR API names the compartment (the token's patient) first, so the primary
-- key and both search indexes start with patient_id: a patient's data is one index range, and a
-- distributed deployment shards on patient_id (see docs/operators.md, sizing).
--
-- `tokens` holds the resource's search tokens as `name=value` ('category=vital-signs',
-- 'code=http://loinc.org|29463-7', 'status=final'), the same strings granular scopes name, so a
-- scope filter is an array containment test. `resource_date` is the resource's date for `date`
-- searches and sorting (its last update when it has none).

CREATE TABLE fhir_resources (
  patient_id text NOT NULL,
  resource_type text NOT NULL,
  id text NOT NULL,
  version_id integer NOT NULL DEFAULT 1,
  last_updated timestamptz NOT NULL DEFAULT now(),
  resource_date timestamptz NOT NULL,
  tokens text[] NOT NULL DEFAULT '{}',
  -- Folded names of a Patient, for the sandbox's patient picker.
  search_text text,
  content jsonb NOT NULL,
  PRIMARY KEY (patient_id, resource_type, id)
);
CREATE INDEX fhir_resources_by_date ON fhir_resources (patient_id, resource_type, resource_date, id);
CREATE INDEX fhir_resources_by_update ON fhir_resources (patient_id, resource_type, last_updated, id);

-- Who may act for whom: a legal guardian for a child, until the child comes of age.
CREATE TABLE patient_guardians (
  guardian_id text NOT NULL,
  child_id text NOT NULL,
  -- v3 RoleCode: MTH, FTH or GUARD.
  relationship text NOT NULL,
  valid_until date,
  PRIMARY KEY (guardian_id, child_id)
);
CREATE INDEX patient_guardians_child ON patient_guardians (child_id);
