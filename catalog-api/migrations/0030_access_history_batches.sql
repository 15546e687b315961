-- Appends entries to the patients' access-history chains, several at a time: the server gathers
-- the entries of concurrent requests and appends them in one statement (group commit), so a
-- patient's chain head is locked and the transaction committed once per batch instead of once per
-- request. The entries are taken in the order given (the server sorts a batch by patient, so two
-- batches lock their heads in the same order and cannot deadlock); each moves its patient's head
-- and is written with the hash of the previous one, exactly as one at a time:
-- SHA-256 (hex) of the previous hash, the patient, the position, the instant (ISO 8601, to the
-- millisecond), the app, the client, the grant, the actor, the resource type, the interaction and
-- the count, one per line (audit/history.ts `entryHash` computes the same to verify a chain).
-- Returns each entry's position in the batch, its position in its chain, and its hashes.
CREATE FUNCTION append_access_history(
  patient_ids text[], occurred text[], app_ids text[], client_ids text[], grant_ids text[],
  actor_ids text[], resource_types text[], interactions text[], counts text[]
) RETURNS TABLE (entry integer, entry_seq bigint, entry_prev_hash text, entry_hash text)
LANGUAGE plpgsql AS $$
DECLARE
  genesis constant text := repeat('0', 64);
  head record;
BEGIN
  FOR i IN 1 .. coalesce(array_length(patient_ids, 1), 0) LOOP
    INSERT INTO access_history_heads AS h (patient_id, seq, prev_hash, hash)
    VALUES (patient_ids[i], 1, genesis, encode(sha256(convert_to(concat_ws(E'\n', genesis, patient_ids[i], '1', occurred[i],
      app_ids[i], client_ids[i], grant_ids[i], actor_ids[i], resource_types[i], interactions[i], counts[i]), 'UTF8')), 'hex'))
    ON CONFLICT (patient_id) DO UPDATE SET seq = h.seq + 1, prev_hash = h.hash,
      hash = encode(sha256(convert_to(concat_ws(E'\n', h.hash, patient_ids[i], (h.seq + 1)::text, occurred[i],
        app_ids[i], client_ids[i], grant_ids[i], actor_ids[i], resource_types[i], interactions[i], counts[i]), 'UTF8')), 'hex')
    RETURNING h.seq, h.prev_hash, h.hash INTO head;
    INSERT INTO access_history (patient_id, seq, occurred_at, app_id, client_id, grant_id, actor_id, resource_type, interaction, resource_count, prev_hash, hash)
    VALUES (patient_ids[i], head.seq, occurred[i]::timestamptz, app_ids[i]::uuid, client_ids[i], grant_ids[i]::uuid, actor_ids[i],
      resource_types[i], interactions[i], counts[i]::integer, head.prev_hash, head.hash);
    entry := i;
    entry_seq := head.seq;
    entry_prev_hash := head.prev_hash;
    entry_hash := head.hash;
    RETURN NEXT;
  END LOOP;
END
$$;
