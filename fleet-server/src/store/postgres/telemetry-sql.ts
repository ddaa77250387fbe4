/**
 * @module store/postgres/telemetry-sql
 * The telemetry hot path as server-side functions, created by the schema migration.
 *
 * edgeloop_insert_telemetry stores one batch: the columns arrive as one array each, so the call
 * has the same 17 parameters whatever the batch size (a VALUES list of 5,000 rows × 15 columns
 * would pass the protocol's 65,535-parameter limit). Being PL/pgSQL, its statement is planned once
 * per connection and the plan kept; sent as plain SQL it would be planned anew for every batch,
 * over every partition, which cost as much as inserting the rows.
 *
 * Exactly-once on (device, stream, seq), as in SQLite, though the table's unique key must also
 * hold the partition key ts: telemetry_streams keeps the highest seq stored per stream. A record
 * above it is new. A record at or below it (a re-send, or one the device held back for its
 * reference value) is looked up with its own ts first (one partition: a re-send carries the ts it
 * was made with), then by seq alone across the partitions; it is stored only if neither finds
 * it. ON CONFLICT on the unique key stays the last guard. The usual batch — all of it above the
 * highest seq, no reference value waiting for it — takes a plain INSERT with none of that.
 *
 * Late reference values: edgeloop_update_references sets a batch of them in one call (one UPDATE
 * with the seq numbers as an index condition, where one UPDATE per value would be planned over
 * every partition each time). One whose record is not stored yet waits in pending_references,
 * and the insert that stores the record takes it. The two may also cross — the value's UPDATE running
 * while the record's insert is not committed yet, so invisible to it. Both sides take the same
 * transaction lock on (device, stream): the insert in a statement before the one that reads
 * waiting values (in a volatile function each statement takes a fresh snapshot, so that one
 * sees everything committed before the lock was granted), the park in a BEFORE INSERT trigger
 * that, once it holds the lock, tries the UPDATE again and parks the value only if the record is
 * still not there. The lock also makes the insert's read-check-insert-raise of the highest seq
 * one step for the stream.
 */

/**
 * First key of the (device, stream) transaction lock; the second is
 * hashtext(device_id || '/' || stream). The two-key form keeps clear of the one-key bigint locks
 * of migrations and partition maintenance.
 */
export const REFERENCE_LOCK_CLASS = 0x45444c52;

export const TELEMETRY_FUNCTIONS_SQL = `
CREATE FUNCTION edgeloop_insert_telemetry(
  p_device text, p_stream text, p_seq bigint[], p_ts bigint[], p_model text[], p_version integer[], p_request_id text[],
  p_output text[], p_prediction double precision[], p_latency_ms double precision[], p_features text[],
  p_reference double precision[], p_shadow integer[], p_min_seq bigint, p_max_seq bigint, p_received_at bigint, p_historical integer
) RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  added bigint;
  highest bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(${REFERENCE_LOCK_CLASS}, hashtext(p_device || '/' || p_stream));
  SELECT s.max_seq INTO highest FROM telemetry_streams s WHERE s.device_id = p_device AND s.stream = p_stream;
  highest := coalesce(highest, 0);
  IF p_min_seq > highest AND NOT EXISTS (
    SELECT 1 FROM pending_references p WHERE p.device_id = p_device AND p.stream = p_stream AND p.seq BETWEEN p_min_seq AND p_max_seq
  ) THEN
    -- The usual batch: every record above the highest seq, no value waiting for any of them.
    INSERT INTO telemetry (device_id, stream, seq, ts, received_at, model, version, request_id, output, prediction,
                           latency_ms, features, reference, historical, shadow)
    SELECT p_device, p_stream, r.seq, r.ts, p_received_at, r.model, r.version, r.request_id, r.output, r.prediction,
           r.latency_ms, r.features, r.reference, p_historical, r.shadow
      FROM unnest(p_seq, p_ts, p_model, p_version, p_request_id, p_output, p_prediction, p_latency_ms, p_features, p_reference, p_shadow)
        AS r(seq, ts, model, version, request_id, output, prediction, latency_ms, features, reference, shadow)
    ON CONFLICT (device_id, stream, seq, ts) DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
  ELSE
    WITH r AS (
      SELECT * FROM unnest(p_seq, p_ts, p_model, p_version, p_request_id, p_output, p_prediction, p_latency_ms, p_features, p_reference, p_shadow)
        AS r(seq, ts, model, version, request_id, output, prediction, latency_ms, features, reference, shadow)
    ), fresh AS (
      SELECT r.* FROM r
       WHERE CASE
               WHEN r.seq > highest THEN true
               WHEN EXISTS (SELECT 1 FROM telemetry t WHERE t.device_id = p_device AND t.stream = p_stream AND t.seq = r.seq AND t.ts = r.ts) THEN false
               ELSE NOT EXISTS (SELECT 1 FROM telemetry t WHERE t.device_id = p_device AND t.stream = p_stream AND t.seq = r.seq)
             END
    ), waiting AS (
      SELECT p.seq, p.reference FROM pending_references p
       WHERE p.device_id = p_device AND p.stream = p_stream AND p.seq BETWEEN p_min_seq AND p_max_seq
    ), inserted AS (
      INSERT INTO telemetry (device_id, stream, seq, ts, received_at, model, version, request_id, output, prediction,
                             latency_ms, features, reference, historical, shadow)
      SELECT p_device, p_stream, f.seq, f.ts, p_received_at, f.model, f.version, f.request_id, f.output, f.prediction,
             f.latency_ms, f.features, coalesce(w.reference, f.reference), p_historical, f.shadow
        FROM fresh f LEFT JOIN waiting w ON w.seq = f.seq
      ON CONFLICT (device_id, stream, seq, ts) DO NOTHING
      RETURNING telemetry.seq
    ), taken AS (
      DELETE FROM pending_references p
       WHERE p.device_id = p_device AND p.stream = p_stream AND p.seq BETWEEN p_min_seq AND p_max_seq
         AND p.seq IN (SELECT i.seq FROM inserted i)
    )
    SELECT count(*) INTO added FROM inserted;
  END IF;
  IF p_max_seq > highest THEN
    INSERT INTO telemetry_streams AS s (device_id, stream, max_seq) VALUES (p_device, p_stream, p_max_seq)
    ON CONFLICT (device_id, stream) DO UPDATE SET max_seq = excluded.max_seq WHERE s.max_seq < excluded.max_seq;
  END IF;
  RETURN added;
END
$fn$;

CREATE FUNCTION edgeloop_update_references(
  p_device text, p_stream text, p_seq bigint[], p_reference double precision[], p_received_at bigint
) RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  parked bigint;
BEGIN
  WITH u AS (
    SELECT * FROM unnest(p_seq, p_reference) AS u(seq, reference)
  ), updated AS (
    UPDATE telemetry t SET reference = u.reference FROM u
     WHERE t.device_id = p_device AND t.stream = p_stream AND t.seq = ANY (p_seq) AND t.seq = u.seq
    RETURNING t.seq
  ), kept AS (
    INSERT INTO pending_references (device_id, stream, seq, reference, received_at)
    SELECT p_device, p_stream, u.seq, u.reference, p_received_at FROM u WHERE u.seq NOT IN (SELECT d.seq FROM updated d)
    ON CONFLICT (device_id, stream, seq) DO UPDATE SET reference = excluded.reference, received_at = excluded.received_at
    RETURNING 1
  )
  SELECT count(*) INTO parked FROM kept;
  RETURN parked;
END
$fn$;

CREATE FUNCTION edgeloop_park_reference() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_advisory_xact_lock(${REFERENCE_LOCK_CLASS}, hashtext(NEW.device_id || '/' || NEW.stream));
  UPDATE telemetry SET reference = NEW.reference WHERE device_id = NEW.device_id AND stream = NEW.stream AND seq = NEW.seq;
  IF FOUND THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER pending_references_park BEFORE INSERT ON pending_references
  FOR EACH ROW EXECUTE FUNCTION edgeloop_park_reference();
`;

/**
 * The ingest's group commit. Per batch, in order: the device made known (as devices.ensure), the
 * records stored by edgeloop_insert_telemetry (its plan kept for this connection too), the device
 * touched (as devices.touch). The records of all batches arrive as one array per column, each
 * batch's slice given by p_count. A batch whose records were already stored by COPY in this
 * transaction (see edgeloop_claim_batches) has p_count 0 and p_copied its record count, and is
 * only touched. Returns per batch the records added and whether the device was new. The caller
 * passes the batches sorted by (device, stream), so concurrent groups take their locks in one
 * order.
 *
 * edgeloop_claim_batches is the first step of the COPY path (telemetry-copy.ts): per batch it
 * makes the device known, takes the (device, stream) lock and tells whether the batch is a plain
 * one — every seq above the highest stored, no reference value waiting for it. Those are raised in
 * telemetry_streams at once (a later batch of the stream in the group then sees them) and may be
 * copied straight into telemetry: no record of them can be stored yet, and none can be stored or
 * get a waiting value by anyone else until this transaction ends, as the lock is held till then.
 * The other batches go through edgeloop_store_batches after the COPY, which then finds the copied
 * rows.
 */
export const STORE_BATCHES_FUNCTION_SQL = `
CREATE FUNCTION edgeloop_store_batches(
  p_device text[], p_stream text[], p_count integer[], p_copied integer[], p_min_seq bigint[], p_max_seq bigint[],
  p_historical integer[], p_backlog bigint[], p_dropped bigint[],
  p_seq bigint[], p_ts bigint[], p_model text[], p_version integer[], p_request_id text[],
  p_output text[], p_prediction double precision[], p_latency_ms double precision[], p_features text[],
  p_reference double precision[], p_shadow integer[], p_received_at bigint,
  OUT added integer[], OUT registered boolean[]
) LANGUAGE plpgsql AS $fn$
DECLARE
  lo integer := 1;
  hi integer;
  n bigint;
  k bigint;
BEGIN
  added := '{}';
  registered := '{}';
  FOR i IN 1 .. coalesce(array_length(p_device, 1), 0) LOOP
    hi := lo + p_count[i] - 1;
    INSERT INTO devices (id, first_seen, last_seen) VALUES (p_device[i], p_received_at, p_received_at)
    ON CONFLICT (id) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    registered := registered || (n > 0);
    k := coalesce(p_copied[i], 0);
    IF p_count[i] > 0 THEN
      k := k + edgeloop_insert_telemetry(p_device[i], p_stream[i], p_seq[lo:hi], p_ts[lo:hi], p_model[lo:hi],
        p_version[lo:hi], p_request_id[lo:hi], p_output[lo:hi], p_prediction[lo:hi], p_latency_ms[lo:hi],
        p_features[lo:hi], p_reference[lo:hi], p_shadow[lo:hi], p_min_seq[i], p_max_seq[i], p_received_at,
        p_historical[i]);
    END IF;
    added := added || k::integer;
    UPDATE devices SET last_seen = p_received_at, backlog = coalesce(p_backlog[i], backlog), records = records + k,
           dropped = CASE WHEN p_dropped[i] IS NULL THEN dropped ELSE greatest(dropped, p_dropped[i]) END
     WHERE id = p_device[i];
    lo := hi + 1;
  END LOOP;
END
$fn$;

CREATE FUNCTION edgeloop_claim_batches(
  p_device text[], p_stream text[], p_min_seq bigint[], p_max_seq bigint[], p_received_at bigint,
  OUT plain boolean[], OUT registered boolean[]
) LANGUAGE plpgsql AS $fn$
DECLARE
  n bigint;
  highest bigint;
  ok boolean;
BEGIN
  plain := '{}';
  registered := '{}';
  FOR i IN 1 .. coalesce(array_length(p_device, 1), 0) LOOP
    INSERT INTO devices (id, first_seen, last_seen) VALUES (p_device[i], p_received_at, p_received_at)
    ON CONFLICT (id) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    registered := registered || (n > 0);
    PERFORM pg_advisory_xact_lock(${REFERENCE_LOCK_CLASS}, hashtext(p_device[i] || '/' || p_stream[i]));
    SELECT s.max_seq INTO highest FROM telemetry_streams s WHERE s.device_id = p_device[i] AND s.stream = p_stream[i];
    ok := p_min_seq[i] > coalesce(highest, 0) AND NOT EXISTS (
      SELECT 1 FROM pending_references p
       WHERE p.device_id = p_device[i] AND p.stream = p_stream[i] AND p.seq BETWEEN p_min_seq[i] AND p_max_seq[i]);
    IF ok THEN
      INSERT INTO telemetry_streams AS s (device_id, stream, max_seq) VALUES (p_device[i], p_stream[i], p_max_seq[i])
      ON CONFLICT (device_id, stream) DO UPDATE SET max_seq = excluded.max_seq WHERE s.max_seq < excluded.max_seq;
    END IF;
    plain := plain || ok;
  END LOOP;
END
$fn$;
`;
