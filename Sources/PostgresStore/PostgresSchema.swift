import Foundation

/// The tables and the append function of one store, in a PostgreSQL schema of its own.
///
/// - `head`: one row, the last position and the last hash of the chain. Every append batch
///   locks it first (`FOR UPDATE`), so positions are assigned under that lock, in commit order,
///   and a rolled-back batch leaves no gap: a reader that has seen position n never later finds
///   an n-1 committed behind it. The price is that appends of one store commit one batch at a
///   time, which group commit (one call per batch of appends) makes cheap.
/// - `streams`: each stream's current version; `events`: one row per event, with its position,
///   stream version, id (unique: the idempotency of appends), content, timestamp, the CRC-32C
///   and SHA-256 digest of its content, and its link of the hash chain
///   `hash = sha256(previous hash || position || version || micros || digest)`.
/// - `snapshots`: the latest snapshot per stream; `meta`: the schema version.
struct PostgresSchema {
    /// The layout version this code writes; a store of a newer one is refused at open.
    static let version = 1

    let name: String
    /// `"name"`, for SQL.
    let quoted: String
    /// The NOTIFY channel appends signal on.
    var channel: String { "tributary_\(name)" }

    /// Schema names are plain identifiers (lowercase letters, digits, `_`; at most 48 bytes, so
    /// the channel name stays within PostgreSQL's 63).
    init(_ name: String) throws {
        let ok = !name.isEmpty && name.utf8.count <= 48 && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
            && !(name.utf8.first! >= 0x30 && name.utf8.first! <= 0x39)
        guard ok else { throw PGError("schema name '\(name)' must be 1-48 lowercase letters, digits or '_', not starting with a digit") }
        self.name = name
        quoted = "\"\(name)\""
    }

    var createScript: String {
        let s = quoted
        return """
        CREATE SCHEMA IF NOT EXISTS \(s);
        CREATE TABLE IF NOT EXISTS \(s).meta (key text PRIMARY KEY, value text NOT NULL);
        INSERT INTO \(s).meta VALUES ('schema_version', '\(Self.version)') ON CONFLICT DO NOTHING;
        CREATE TABLE IF NOT EXISTS \(s).head (
            id int PRIMARY KEY CHECK (id = 1),
            last_position int8 NOT NULL,
            last_hash bytea NOT NULL);
        INSERT INTO \(s).head VALUES (1, 0, '\\x\(String(repeating: "00", count: 32))'::bytea) ON CONFLICT DO NOTHING;
        CREATE TABLE IF NOT EXISTS \(s).streams (name text COLLATE "C" PRIMARY KEY, version int8 NOT NULL) WITH (fillfactor = 80);
        CREATE TABLE IF NOT EXISTS \(s).events (
            position int8 PRIMARY KEY,
            stream text COLLATE "C" NOT NULL,
            version int8 NOT NULL,
            id uuid NOT NULL UNIQUE,
            type text NOT NULL,
            schema_version int8 NOT NULL,
            data bytea NOT NULL,
            metadata bytea NOT NULL,
            micros int8 NOT NULL,
            crc int4 NOT NULL,
            digest bytea NOT NULL,
            hash bytea NOT NULL,
            UNIQUE (stream, version));
        CREATE TABLE IF NOT EXISTS \(s).snapshots (stream text COLLATE "C" PRIMARY KEY, version int8 NOT NULL, data bytea NOT NULL);
        \(checkedAppendFunction)
        \(appendFunction)
        """
    }

    /// One call appends a whole batch: per append its stream, expected version (-1 any,
    /// -2 no stream, -3 stream exists, n exact) and event count, then the events' columns
    /// flattened. Each append is decided on its own, as the file engine decides them: written
    /// (status 0), an idempotent repeat answered with the original result (1), a wrong
    /// expected version with the actual one, -1 for no stream (2), an idempotency conflict
    /// with the reason (3). One row per append, in order.
    var checkedAppendFunction: String {
        let s = quoted
        return """
        CREATE OR REPLACE FUNCTION \(s).append_batch_checked(
            p_streams text[], p_expected int8[], p_counts int4[], p_ids uuid[], p_types text[],
            p_schema_versions int8[], p_datas bytea[], p_metas bytea[], p_crcs int4[], p_digests bytea[])
        RETURNS TABLE (o_status int4, o_version int8, o_first int8, o_last int8, o_micros int8, o_reason text)
        LANGUAGE plpgsql
        -- Every lookup here probes a unique index for a few hundred keys at most, never a
        -- table's worth; left to itself the planner may scan a small or mid-sized table (a hash
        -- join over a seq scan looks cheaper), and keep that cached plan while the table grows.
        SET enable_seqscan = off
        SET enable_hashjoin = off
        SET enable_mergejoin = off
        -- With those, the generic plan is the index plan for any batch: planned once per
        -- connection (custom plans re-planned every statement of every call).
        SET plan_cache_mode = force_generic_plan
        AS $fn$
        DECLARE
            pos int8; prev bytea; start_pos int8; now_us int8; k int := 1; n int; cur int8; first_v int8;
            ks text[]; kv int8[]; kp int8[]; hashes bytea[]; j int; e int8; place_ok bool; conflict text;
        BEGIN
            SELECT h.last_position, h.last_hash INTO pos, prev FROM \(s).head h WHERE h.id = 1 FOR UPDATE;
            start_pos := pos;
            now_us := (extract(epoch FROM clock_timestamp()) * 1000000)::int8;
            FOR i IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
                n := p_counts[i];
                e := p_expected[i];
                o_status := NULL; o_version := NULL; o_first := NULL; o_last := NULL; o_micros := NULL; o_reason := NULL;
                SELECT array_agg(ev.stream ORDER BY u.ord), array_agg(ev.version ORDER BY u.ord), array_agg(ev.position ORDER BY u.ord)
                  INTO ks, kv, kp
                  FROM unnest(p_ids[k:k + n - 1]) WITH ORDINALITY AS u(id, ord) JOIN \(s).events ev ON ev.id = u.id;
                IF ks IS NOT NULL THEN
                    conflict := NULL;
                    IF array_length(ks, 1) < n THEN
                        conflict := array_length(ks, 1) || ' of ' || n || ' event ids are already stored (partial overlap)';
                    ELSE
                        FOR j IN 1 .. n LOOP
                            IF ks[j] <> p_streams[i] THEN
                                conflict := 'event id already stored in stream ''' || ks[j] || ''''; EXIT;
                            ELSIF kv[j] <> kv[1] + j - 1 THEN
                                conflict := 'event ids are stored, but not consecutively in this order'; EXIT;
                            END IF;
                        END LOOP;
                        IF conflict IS NULL THEN
                            place_ok := CASE WHEN e = -2 THEN kv[1] = 0 WHEN e >= 0 THEN kv[1] = e + 1 ELSE true END;
                            IF NOT place_ok THEN
                                conflict := 'event ids are stored at versions ' || kv[1] || '...' || kv[n] || ', not where expected version '
                                    || CASE WHEN e = -2 THEN 'no-stream' ELSE e::text END || ' places them';
                            END IF;
                        END IF;
                    END IF;
                    IF conflict IS NULL THEN
                        o_status := 1; o_version := kv[n]; o_first := kp[1]; o_last := kp[n];
                    ELSE
                        o_status := 3; o_reason := conflict;
                    END IF;
                ELSE
                    SELECT st.version INTO cur FROM \(s).streams st WHERE st.name = p_streams[i];
                    IF (e = -2 AND cur IS NOT NULL) OR (e = -3 AND cur IS NULL) OR (e >= 0 AND (cur IS NULL OR cur <> e)) THEN
                        o_status := 2; o_version := coalesce(cur, -1);
                    ELSE
                        first_v := coalesce(cur, -1) + 1;
                        hashes := ARRAY[]::bytea[];
                        FOR j IN 0 .. n - 1 LOOP
                            prev := sha256(prev || int8send(pos + 1 + j) || int8send(first_v + j) || int8send(now_us) || p_digests[k + j]);
                            hashes := array_append(hashes, prev);
                        END LOOP;
                        INSERT INTO \(s).events (position, stream, version, id, type, schema_version, data, metadata, micros, crc, digest, hash)
                        SELECT pos + x.ord, p_streams[i], first_v + x.ord - 1, p_ids[k + x.ord - 1], p_types[k + x.ord - 1],
                               p_schema_versions[k + x.ord - 1], p_datas[k + x.ord - 1], p_metas[k + x.ord - 1], now_us,
                               p_crcs[k + x.ord - 1], p_digests[k + x.ord - 1], x.h
                          FROM unnest(hashes) WITH ORDINALITY AS x(h, ord);
                        INSERT INTO \(s).streams (name, version) VALUES (p_streams[i], first_v + n - 1)
                            ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version;
                        o_status := 0; o_version := first_v + n - 1; o_first := pos + 1; o_last := pos + n; o_micros := now_us;
                        pos := pos + n;
                    END IF;
                END IF;
                k := k + n;
                RETURN NEXT;
            END LOOP;
            IF pos > start_pos THEN
                UPDATE \(s).head SET last_position = pos, last_hash = prev WHERE id = 1;
                PERFORM pg_notify('\(channel)', pos::text);
            END IF;
        END
        $fn$;
        """
    }

    /// The common case set-based: no event id of the batch is stored yet and none appears
    /// twice, so each append is decided from the streams' versions alone (read once for the
    /// batch, updated as the batch's appends are decided), every event of the batch goes in
    /// with one INSERT and every stream with one upsert. A batch with a stored or repeated id
    /// takes `append_batch_checked`, which decides append by append with the id rules.
    var appendFunction: String {
        let s = quoted
        return """
        CREATE OR REPLACE FUNCTION \(s).append_batch(
            p_streams text[], p_expected int8[], p_counts int4[], p_ids uuid[], p_types text[],
            p_schema_versions int8[], p_datas bytea[], p_metas bytea[], p_crcs int4[], p_digests bytea[])
        RETURNS TABLE (o_status int4, o_version int8, o_first int8, o_last int8, o_micros int8, o_reason text)
        LANGUAGE plpgsql
        -- Every lookup here probes a unique index for a few hundred keys at most, never a
        -- table's worth; left to itself the planner may scan a small or mid-sized table (a hash
        -- join over a seq scan looks cheaper), and keep that cached plan while the table grows.
        SET enable_seqscan = off
        SET enable_hashjoin = off
        SET enable_mergejoin = off
        -- With those, the generic plan is the index plan for any batch: planned once per
        -- connection (custom plans re-planned every statement of every call).
        SET plan_cache_mode = force_generic_plan
        AS $fn$
        DECLARE
            pos int8; prev bytea; start_pos int8; now_us int8; k int := 1; n int; cur int8; first_v int8; e int8; at int;
            names text[]; vers int8[]; ev_pos int8[] := '{}'; ev_ver int8[] := '{}'; ev_stream text[] := '{}'; ev_hash bytea[] := '{}';
        BEGIN
            SELECT h.last_position, h.last_hash INTO pos, prev FROM \(s).head h WHERE h.id = 1 FOR UPDATE;
            -- Joins on unnest, not "= ANY(array)": the latter may be planned as a scan of the table.
            IF EXISTS (SELECT 1 FROM unnest(p_ids) u(id) JOIN \(s).events ev ON ev.id = u.id)
               OR (SELECT count(DISTINCT x) FROM unnest(p_ids) x) < cardinality(p_ids) THEN
                RETURN QUERY SELECT * FROM \(s).append_batch_checked(p_streams, p_expected, p_counts, p_ids, p_types,
                    p_schema_versions, p_datas, p_metas, p_crcs, p_digests);
                RETURN;
            END IF;
            start_pos := pos;
            now_us := (extract(epoch FROM clock_timestamp()) * 1000000)::int8;
            SELECT coalesce(array_agg(st.name), '{}'), coalesce(array_agg(st.version), '{}') INTO names, vers
              FROM (SELECT DISTINCT u.name FROM unnest(p_streams) u(name)) u JOIN \(s).streams st ON st.name = u.name;
            FOR i IN 1 .. cardinality(p_streams) LOOP
                n := p_counts[i];
                e := p_expected[i];
                o_status := NULL; o_version := NULL; o_first := NULL; o_last := NULL; o_micros := NULL; o_reason := NULL;
                at := array_position(names, p_streams[i]);
                cur := CASE WHEN at IS NULL THEN NULL ELSE vers[at] END;
                IF (e = -2 AND cur IS NOT NULL) OR (e = -3 AND cur IS NULL) OR (e >= 0 AND (cur IS NULL OR cur <> e)) THEN
                    o_status := 2; o_version := coalesce(cur, -1);
                    FOR j IN 1 .. n LOOP
                        ev_pos := ev_pos || NULL::int8; ev_ver := ev_ver || NULL::int8;
                        ev_stream := ev_stream || NULL::text; ev_hash := ev_hash || NULL::bytea;
                    END LOOP;
                ELSE
                    first_v := coalesce(cur, -1) + 1;
                    FOR j IN 0 .. n - 1 LOOP
                        prev := sha256(prev || int8send(pos + 1 + j) || int8send(first_v + j) || int8send(now_us) || p_digests[k + j]);
                        ev_pos := ev_pos || (pos + 1 + j); ev_ver := ev_ver || (first_v + j);
                        ev_stream := ev_stream || p_streams[i]; ev_hash := ev_hash || prev;
                    END LOOP;
                    IF at IS NULL THEN names := names || p_streams[i]; vers := vers || (first_v + n - 1);
                    ELSE vers[at] := first_v + n - 1; END IF;
                    o_status := 0; o_version := first_v + n - 1; o_first := pos + 1; o_last := pos + n; o_micros := now_us;
                    pos := pos + n;
                END IF;
                k := k + n;
                RETURN NEXT;
            END LOOP;
            IF pos > start_pos THEN
                INSERT INTO \(s).events (position, stream, version, id, type, schema_version, data, metadata, micros, crc, digest, hash)
                SELECT x.position, x.stream, x.version, x.id, x.type, x.schema_version, x.data, x.metadata, now_us, x.crc, x.digest, x.hash
                  FROM unnest(ev_pos, ev_stream, ev_ver, p_ids, p_types, p_schema_versions, p_datas, p_metas, p_crcs, p_digests, ev_hash)
                       AS x(position, stream, version, id, type, schema_version, data, metadata, crc, digest, hash)
                 WHERE x.position IS NOT NULL;
                INSERT INTO \(s).streams (name, version) SELECT * FROM unnest(names, vers)
                    ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version WHERE \(s).streams.version <> EXCLUDED.version;
                UPDATE \(s).head SET last_position = pos, last_hash = prev WHERE id = 1;
                PERFORM pg_notify('\(channel)', pos::text);
                -- Test hook (PostgresStoreOptions.testHoldBeforeCommit): keep the batch's
                -- positions taken and uncommitted for a while, as a slow commit would.
                IF current_setting('tributary.hold_ms', true) IS NOT NULL AND current_setting('tributary.hold_ms', true) <> '' THEN
                    PERFORM pg_sleep(current_setting('tributary.hold_ms', true)::int / 1000.0);
                END IF;
            END IF;
        END
        $fn$;
        """
    }

    /// Columns of a read, in the order `PostgresRows.event` decodes them.
    static let eventColumns = "position, stream, version, id, type, schema_version, data, metadata, micros"
}
