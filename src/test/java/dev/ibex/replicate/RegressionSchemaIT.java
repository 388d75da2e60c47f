package dev.ibex.replicate;

import static dev.ibex.test.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ibex.controller.InProcessController;
import dev.ibex.test.Cli;
import dev.ibex.test.PgServers;
import dev.ibex.test.TestDb;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A schema like the one PostgreSQL's regression suite leaves behind, in miniature (reliability
 * issue, "A real schema"): range partitions with a hash-partitioned level and a default, list
 * partitions on an enum, inheritance, a typed table, unlogged tables, rules, generated and
 * identity columns, keys of many types, a column of nearly every built-in type, keyless tables
 * and sequences. It is replicated as a new user would through the CLI: keyed tables and the
 * sequences through a target sync with a one-time copy ({@code add all tables --keyed-only}), the
 * keyless tables through a fullcopy sync. Writes generated from the source's catalog (a value
 * expression per column type; inserts, updates that change keys and move rows between
 * partitions, deletes, now and then a TRUNCATE and a nextval) run for a few seconds under the
 * controller; then {@code ibex compare} says MATCH for every table, and a checksum of its own
 * (count and md5 over every row's text in text order, ONLY each table) agrees for every table.
 */
class RegressionSchemaIT {

    /** Writes last at least this long. */
    private static final Duration WRITING = Duration.ofSeconds(8);

    private static final String[] TYPES = {
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE TYPE region AS ENUM ('north', 'south', 'east', 'west')",
        "CREATE TYPE comp_t AS (a int, b text)",
        "CREATE DOMAIN posint AS int CHECK (VALUE > 0)",
        "CREATE TYPE person_t AS (id int, name text, born date, tags text[])",
        "CREATE SEQUENCE counter_seq",
    };

    private static final String[] TABLES = {
        // range partitions: one level hash-partitioned again, and a default
        "CREATE TABLE measurement (city_id int NOT NULL, logdate date NOT NULL, peaktemp int, unitsales numeric(10,2), "
            + "PRIMARY KEY (city_id, logdate)) PARTITION BY RANGE (logdate)",
        "CREATE TABLE measurement_2023 PARTITION OF measurement FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')",
        "CREATE TABLE measurement_2024 PARTITION OF measurement FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "CREATE TABLE measurement_2025 PARTITION OF measurement FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') "
            + "PARTITION BY HASH (city_id)",
        "CREATE TABLE measurement_2025_h0 PARTITION OF measurement_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 0)",
        "CREATE TABLE measurement_2025_h1 PARTITION OF measurement_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 1)",
        "CREATE TABLE measurement_other PARTITION OF measurement DEFAULT",
        // list partitions
        "CREATE TABLE orders_by_region (id int NOT NULL, region region NOT NULL, amount money, placed timestamptz, "
            + "PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
        "CREATE TABLE orders_north PARTITION OF orders_by_region FOR VALUES IN ('north')",
        "CREATE TABLE orders_south PARTITION OF orders_by_region FOR VALUES IN ('south', 'east')",
        "CREATE TABLE orders_rest PARTITION OF orders_by_region DEFAULT",
        // inheritance
        "CREATE TABLE cities (name text PRIMARY KEY, population int, elevation int)",
        "CREATE TABLE capitals (state char(2) NOT NULL) INHERITS (cities)",
        "ALTER TABLE capitals ADD PRIMARY KEY (name)",
        // a typed table, unlogged tables
        "CREATE TABLE people OF person_t (PRIMARY KEY (id))",
        "CREATE UNLOGGED TABLE sessions (id uuid PRIMARY KEY, data jsonb, seen timestamptz)",
        // generated and identity columns
        "CREATE TABLE gen (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED, "
            + "label text GENERATED ALWAYS AS ('n' || id::text) STORED)",
        "CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text, at timestamptz DEFAULT now())",
        // rules: on the target ibex's session_replication_role keeps them from firing
        "CREATE TABLE rtab (id int PRIMARY KEY, v int, note text)",
        "CREATE TABLE rtab_log (id bigserial PRIMARY KEY, rid int, op text, at timestamptz DEFAULT now())",
        "CREATE RULE rtab_del AS ON DELETE TO rtab DO ALSO INSERT INTO rtab_log (rid, op) VALUES (OLD.id, 'delete')",
        "CREATE RULE rtab_neg AS ON UPDATE TO rtab WHERE NEW.v < 0 DO INSTEAD NOTHING",
        // keys of several types and shapes
        "CREATE TABLE uuid_keyed (id uuid PRIMARY KEY, payload jsonb, n numeric)",
        "CREATE TABLE multi_keyed (a text NOT NULL, b date NOT NULL, c smallint NOT NULL, v float8, "
            + "PRIMARY KEY (a, b, c))",
        "CREATE TABLE numeric_keyed (n numeric PRIMARY KEY, t text)",
        "CREATE TABLE uniq_keyed (code varchar(20) NOT NULL UNIQUE, v interval, note text)",
        "CREATE TABLE ts_keyed (at timestamptz PRIMARY KEY, v int)",
        // a column of nearly every built-in type
        "CREATE TABLE alltypes (id bigserial PRIMARY KEY, k int NOT NULL UNIQUE, c_int2 smallint, c_int8 bigint, "
            + "c_numeric numeric(12,3), c_float4 real, c_float8 double precision, c_bool boolean, c_char char(5), "
            + "c_varchar varchar(20), c_text text, c_name name, c_date date, c_time time, c_timetz timetz, "
            + "c_ts timestamp, c_tstz timestamptz, c_interval interval, c_json json, c_jsonb jsonb, c_intarr int[], "
            + "c_textarr text[], c_bytea bytea, c_inet inet, c_cidr cidr, c_macaddr macaddr, c_uuid uuid, "
            + "c_bit bit(8), c_varbit varbit, c_money money, c_int4range int4range, c_int8range int8range, "
            + "c_numrange numrange, c_tsrange tsrange, c_tstzrange tstzrange, c_daterange daterange, "
            + "c_tsvector tsvector, c_tsquery tsquery, c_point point, c_line line, c_lseg lseg, c_box box, "
            + "c_path path, c_polygon polygon, c_circle circle, c_oid oid, c_pglsn pg_lsn, c_mood mood, "
            + "c_comp comp_t, c_posint posint, c_datearr date[])",
        // keyless: fullcopy only
        "CREATE TABLE event_log (at timestamptz, what text, n int, tags text[])",
        "CREATE TABLE shapes_bag (p point, b box, c circle, j json)",
        "CREATE TABLE nullable_unique (code text UNIQUE, v int)",
        "CREATE UNLOGGED TABLE scratch (k int, v jsonb)",
    };

    /**
     * A value expression per base type, of a number $r: keys get one below 300 (so writes meet the
     * same rows), other columns any. A text form is cast to the column's type.
     */
    private static final Map<String, String> VALUES = new LinkedHashMap<>();

    static {
        VALUES.put("int2", "($r % 32000)");
        VALUES.put("int4", "$r");
        VALUES.put("int8", "($r::int8 * 1000003)");
        VALUES.put("numeric", "($r * 1.37)");
        VALUES.put("float4", "CASE WHEN $r % 97 = 0 THEN 'NaN'::float4 WHEN $r % 89 = 0 THEN '-Infinity'::float4 "
                + "ELSE ($r / 7.0)::float4 END");
        VALUES.put("float8", "CASE WHEN $r % 97 = 0 THEN 'NaN'::float8 WHEN $r % 89 = 0 THEN 'Infinity'::float8 "
                + "ELSE $r / 7.0::float8 END");
        VALUES.put("bool", "($r % 2 = 0)");
        VALUES.put("bpchar", "('c' || $r)");
        VALUES.put("varchar", "('v' || $r)");
        VALUES.put("text", "('t' || $r || CASE WHEN $r % 5 = 0 THEN E' \\u00e9\\t\"q\\'' ELSE '' END)");
        VALUES.put("name", "('n' || $r)");
        VALUES.put("date", "(date '2023-01-01' + ($r * 37) % 1400)");
        VALUES.put("time", "(time '00:00' + ($r % 86400) * interval '1 second')");
        VALUES.put("timetz", "(time '00:00' + ($r % 86400) * interval '1 second')::timetz");
        VALUES.put("timestamp", "(timestamp '2023-01-01' + $r * interval '1 minute 7.25 seconds')");
        VALUES.put("timestamptz", "(timestamptz '2023-01-01 00:00+00' + $r * interval '1 minute 7.123456 seconds')");
        VALUES.put("interval", "($r * interval '1 day 3 minutes 1.5 seconds')");
        VALUES.put("json", "json_build_object('r', $r, 'a', json_build_array($r, 'x'))");
        VALUES.put("jsonb", "jsonb_build_object('r', $r, 'a', jsonb_build_array($r, 'x', NULL))");
        VALUES.put("bytea", "decode(md5($r::text) || '00ff', 'hex')");
        VALUES.put("inet", "('10.' || ($r % 256) || '.' || ($r / 256 % 256) || '.1')");
        VALUES.put("cidr", "('10.' || ($r % 256) || '.0.0/16')");
        VALUES.put("macaddr", "('08:00:2b:01:02:' || lpad(to_hex($r % 256), 2, '0'))");
        VALUES.put("uuid", "md5($r::text)::uuid");
        VALUES.put("bit", "($r % 256)::bit(8)");
        VALUES.put("varbit", "($r % 256)::bit(8)::varbit");
        VALUES.put("money", "($r / 100.0)::numeric(12,2)");
        VALUES.put("int4range", "int4range($r, $r + 10)");
        VALUES.put("int8range", "int8range($r, $r + 10)");
        VALUES.put("numrange", "numrange($r, $r + 1.5)");
        VALUES.put("tsrange", "tsrange(timestamp '2023-01-01' + $r * interval '1 hour', "
                + "timestamp '2023-01-01' + ($r + 5) * interval '1 hour')");
        VALUES.put("tstzrange", "tstzrange(timestamptz '2023-01-01 00:00+00' + $r * interval '1 hour', "
                + "timestamptz '2023-01-01 00:00+00' + ($r + 5) * interval '1 hour', '(]')");
        VALUES.put("daterange", "daterange(date '2023-01-01' + $r % 500, date '2023-01-01' + $r % 500 + 7)");
        VALUES.put("int4multirange", "int4multirange(int4range($r, $r + 2), int4range($r + 5, $r + 9))");
        VALUES.put("xml", "xmlelement(name x, xmlattributes($r AS r), 'text ' || $r)");
        VALUES.put("tsvector", "to_tsvector('simple', 'word' || $r || ' and more ' || $r % 7)");
        VALUES.put("tsquery", "to_tsquery('simple', 'word' || $r || ' & more')");
        VALUES.put("point", "point($r, $r / 3.0)");
        VALUES.put("line", "line(point(0, 0), point($r + 1, 1))");
        VALUES.put("lseg", "lseg(point(0, $r), point($r, 0))");
        VALUES.put("box", "box(point($r, $r), point($r + 2, $r + 3))");
        VALUES.put("path", "('[(0,0),(' || $r || ',1),(2,' || $r || ')]')");
        VALUES.put("polygon", "polygon(box(point(0, 0), point($r + 1, $r + 2)))");
        VALUES.put("circle", "circle(point($r, 0), $r % 10 + 1)");
        VALUES.put("oid", "$r");
        VALUES.put("pg_lsn", "('0/' || to_hex($r::int8 * 4096))");
    }

    /** One column as the source's catalog has it; {@code fields}: a composite type's, in order. */
    private record Column(String name, String type, String base, String typtype, String category, String elem,
                          boolean notNull, boolean generated, boolean identityAlways, boolean serial, boolean key,
                          List<Column> fields) {
    }

    /**
     * A table the writers write to, with its columns; {@code viaKey}: rows are picked by key, not
     * ctid; {@code rules}: it has rules (INSERT … ON CONFLICT is refused there).
     */
    private record Target(String name, List<Column> columns, List<String> keys, boolean viaKey, boolean rules) {
    }

    private TestDb src;
    private TestDb dst;
    private TestDb repo;

    private static Cli.Result ok(TestDb repo, String... args) {
        Cli.Result r = Cli.run(repo, args);
        assertEquals(0, r.exit(), String.join(" ", args) + ": " + r);
        return r;
    }

    private static int versionNum(TestDb db) {
        return Integer.parseInt(db.scalar("SHOW server_version_num"));
    }

    private static boolean hasXml(TestDb db) {
        try {
            db.exec("SELECT '<a/>'::xml");
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    @Test
    void aRegressionLikeSchemaReplicatesThroughTheCliUnderCatalogDrivenWrites() throws Exception {
        long t0 = System.nanoTime();
        src = PgServers.source();
        dst = PgServers.target();
        assumeTrue(versionNum(src) >= 120000 && versionNum(dst) >= 120000,
                "generated columns, hash partitions and default partitions need PostgreSQL 12 on both ends");
        List<String> schema = new ArrayList<>(List.of(TYPES));
        schema.addAll(List.of(TABLES));
        if (versionNum(src) >= 140000 && versionNum(dst) >= 140000) {
            schema.add("ALTER TABLE alltypes ADD COLUMN c_multirange int4multirange");
        }
        if (hasXml(src) && hasXml(dst)) {
            schema.add("ALTER TABLE alltypes ADD COLUMN c_xml xml");
        }
        src.exec(schema.toArray(String[]::new));
        dst.exec(schema.toArray(String[]::new));

        List<Target> targets = targets(src);
        seed(targets);
        smokeTest(targets);
        List<String> keyless = src.column("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE "
                + "i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL AND NOT EXISTS "
                + "(SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = ANY (i.indkey) AND NOT a.attnotnull)) "
                + "ORDER BY 1");
        assertEquals(List.of("event_log", "nullable_unique", "scratch", "shapes_bag"), keyless);
        List<String> tables = src.column("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1");

        // as a new user would
        repo = PgServers.repository();
        ok(repo, "install", "--batch");
        ok(repo, Cli.args(new String[] {"add", "db", "src"}, src.dbWords()));
        ok(repo, Cli.args(new String[] {"add", "db", "dst"}, dst.dbWords()));
        Cli.Result added = ok(repo, "add", "all", "tables", "db=src", "relgroup=keyed", "--keyed-only");
        System.out.println(added.out() + added.err());
        // the user learns from add all tables which tables need the fullcopy sync
        assertTrue((added.out() + added.err()).contains("Left out 4 table(s) without a primary key or unique index ("
                + String.join(", ", keyless.stream().map(t -> "public." + t).toList()) + ")"), added.toString());
        ok(repo, "add", "all", "sequences", "db=src", "relgroup=keyed");
        List<String> add = new ArrayList<>(List.of("add", "table"));
        keyless.forEach(t -> add.add("public." + t));
        add.addAll(List.of("db=src", "relgroup=keyless"));
        ok(repo, add.toArray(String[]::new));
        ok(repo, "add", "sync", "s", "relgroup=keyed", "dbs=src:source,dst:target", "onetimecopy=1");
        ok(repo, "add", "sync", "f", "relgroup=keyless", "dbs=src:source,dst:fullcopy");
        assertEquals(Integer.toString(tables.size() - keyless.size()), repo.scalar("SELECT count(*) FROM "
                + "ibex.relgroup_member m JOIN ibex.relation r ON r.id = m.relation WHERE m.relgroup = 'keyed' "
                + "AND r.reltype = 'table'"), "every keyed table, partitions and inheritance children included");
        List<String> sequences = src.column("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = 'public' AND c.relkind = 'S' ORDER BY 1");
        assertEquals(4, sequences.size(), sequences.toString());
        repo.exec("INSERT INTO ibex.config (name, setting) VALUES ('kid_retry_min', '0.2'), ('kid_retry_max', '2')");

        AtomicLong statements = new AtomicLong();
        try (InProcessController c = new InProcessController(repo)) {
            long started = System.nanoTime();
            try (Writers writers = Writers.start(src, 3, 30, workload(targets, tables, statements))) {
                writers.awaitCommits(100);
                // beside the writers' moves, a sure one each way: rows leave a partition for another
                src.exec("UPDATE measurement SET logdate = logdate + 900 WHERE (city_id, logdate) IN "
                        + "(SELECT city_id, logdate FROM measurement_2023 LIMIT 5) AND NOT EXISTS (SELECT 1 FROM "
                        + "measurement m WHERE m.city_id = measurement.city_id AND m.logdate = measurement.logdate + 900)",
                        "UPDATE orders_by_region SET region = 'west' WHERE (id, region) IN (SELECT id, region FROM orders_south "
                        + "LIMIT 5) AND NOT EXISTS (SELECT 1 FROM orders_by_region o WHERE o.id = orders_by_region.id "
                        + "AND o.region = 'west')");
                eventually(Duration.ofSeconds(120), "writes for " + WRITING.toSeconds() + " s and the one-time copy done",
                        () -> System.nanoTime() - started > WRITING.toNanos() && writers.committed() > 300
                                && "0".equals(repo.scalar("SELECT onetimecopy FROM ibex.sync WHERE name = 's'")));
                writers.stop();
                System.out.printf("%d statements, %d transactions committed%n", statements.get(), writers.committed());
            }
            // rows sure to be in every kind of table at the end, and sure moves between partitions (a
            // writer's TRUNCATE may have emptied a table at any time)
            src.exec("SELECT setval('counter_seq', nextval('counter_seq') + 41)",
                    "INSERT INTO measurement SELECT 9000 + g, date '2025-03-01' + g, g, g FROM generate_series(1, 20) g",
                    "INSERT INTO measurement VALUES (9000, '2023-06-01', 1, 1)",
                    "UPDATE measurement SET logdate = '2027-06-01' WHERE city_id = 9000",
                    "UPDATE measurement SET logdate = logdate - 400 WHERE city_id = 9001",
                    "INSERT INTO orders_by_region VALUES (9000, 'south', 1, now())",
                    "UPDATE orders_by_region SET region = 'north' WHERE id = 9000",
                    "INSERT INTO cities VALUES ('c9000', 1, 1)",
                    "INSERT INTO capitals VALUES ('k9000', 1, 1, 'XX')",
                    "UPDATE cities SET population = population + 1 WHERE name IN ('c9000', 'k9000')");
            ok(repo, "kick", "s", "0");
            ok(repo, "kick", "f", "0");
            for (String sync : List.of("s", "f")) {
                Cli.Result compare = Cli.run(repo, "compare", sync);
                System.out.println(compare.out());
                assertEquals(0, compare.exit(), compare.toString());
                assertFalse(compare.out().contains("DIFF"), compare.toString());
                int n = "s".equals(sync) ? tables.size() - keyless.size() : keyless.size();
                assertTrue(compare.out().contains("All " + n + " table comparison(s) match"), compare.out());
            }
            c.assertRunning();
        }
        List<String> differ = new ArrayList<>();
        for (String t : tables) {
            String a = checksum(src, t);
            String b = checksum(dst, t);
            System.out.printf("%-22s %s%n", t, a);
            if (!a.equals(b)) {
                differ.add(t + ": source " + a + ", target " + b);
            }
        }
        assertEquals(List.of(), differ, "tables whose rows differ");
        for (String seq : sequences) {
            String q = "SELECT last_value || ' ' || is_called FROM " + seq;
            assertEquals(src.scalar(q), dst.scalar(q), seq);
        }
        assertEquals("1", dst.scalar("SELECT count(*) FROM measurement_other WHERE city_id = 9000"), "moved 2023 -> default");
        assertEquals("1", dst.scalar("SELECT count(*) FROM measurement_2024 WHERE city_id = 9001"), "moved 2025 -> 2024");
        assertEquals("0", dst.scalar("SELECT count(*) FROM ONLY measurement_2023 WHERE city_id = 9000"));
        assertEquals("1", dst.scalar("SELECT count(*) FROM orders_north WHERE id = 9000"), "moved south -> north");
        assertTrue(dst.count("measurement_2025_h0 WHERE city_id > 9000") > 0
                && dst.count("measurement_2025_h1 WHERE city_id > 9000") > 0, "rows in both hash partitions");
        assertEquals("2 2", dst.scalar("SELECT min(population) || ' ' || max(population) FROM cities "
                + "WHERE name IN ('c9000', 'k9000')"), "an update through the inheritance parent reached the child");
        System.out.printf("regression schema case: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /** Count and md5 over every row's text, in text order: keyless tables and types without equality alike. */
    private static String checksum(TestDb db, String table) {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("SET statement_timeout = 0; SET extra_float_digits = 3; SET DateStyle = 'ISO, YMD'; "
                    + "SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC'");
            try (ResultSet rs = st.executeQuery("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' "
                    + "ORDER BY t::text COLLATE \"C\")), '-') FROM ONLY " + table + " t")) {
                rs.next();
                return rs.getString(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(table + ": " + e.getMessage(), e);
        }
    }

    // ---- the catalog-driven writes ----------------------------------------------------------------

    /**
     * The tables written to: every table that is not a partition (partitioned parents route rows to
     * their partitions), each with its columns and key from the catalog.
     */
    private static List<Target> targets(TestDb db) {
        List<Target> out = new ArrayList<>();
        for (String t : db.column("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1")) {
            String rel = "'public." + t + "'::regclass";
            List<String> keys = db.column("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                    + "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = " + rel + " AND i.indisprimary ORDER BY a.attnum");
            if (keys.isEmpty()) {
                keys = db.column("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                        + "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = " + rel + " AND i.indisunique AND a.attnotnull "
                        + "ORDER BY a.attnum");
            }
            boolean parent = "p".equals(db.scalar("SELECT relkind FROM pg_class WHERE oid = " + rel))
                    || Long.parseLong(db.scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = " + rel)) > 0;
            boolean rules = Long.parseLong(db.scalar("SELECT count(*) FROM pg_rewrite WHERE ev_class = " + rel)) > 0;
            out.add(new Target(t, columns(db, "public." + t, keys), keys, parent && !keys.isEmpty(), rules));
        }
        return out;
    }

    /** The columns of a table or composite type {@code rel}, composite types' fields included. */
    private static List<Column> columns(TestDb db, String rel, List<String> keys) {
        List<Column> cols = new ArrayList<>();
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
                     + "coalesce(b.typname, t.typname), coalesce(b.typtype, t.typtype)::text, "
                     + "coalesce(b.typcategory, t.typcategory)::text, e.typname, a.attnotnull, "
                     + "a.attgenerated <> '', a.attidentity = 'a', "
                     + "coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false) "
                     + "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                     + "LEFT JOIN pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype "
                     + "LEFT JOIN pg_type e ON e.oid = coalesce(b.typelem, t.typelem) "
                     + "AND coalesce(b.typcategory, t.typcategory) = 'A' "
                     + "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                     + "WHERE a.attrelid = '" + rel + "'::regclass AND a.attnum > 0 AND NOT a.attisdropped "
                     + "ORDER BY a.attnum")) {
            while (rs.next()) {
                String type = rs.getString(2);
                String typtype = rs.getString(4);
                List<Column> fields = "c".equals(typtype) ? columns(db, type, List.of()) : List.of();
                cols.add(new Column(rs.getString(1), type, rs.getString(3), typtype, rs.getString(5), rs.getString(6),
                        rs.getBoolean(7), rs.getBoolean(8), rs.getBoolean(9), rs.getBoolean(10),
                        keys.contains(rs.getString(1)), fields));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return cols;
    }

    /** A value of {@code col}'s type for r (an SQL expression of r), cast to the column's type. */
    private static String value(Column col, String r) {
        String base;
        if ("posint".equals(col.type())) {
            base = "(" + r + ") % 1000 + 1";
        } else if ("e".equals(col.typtype())) {
            String range = "enum_range(NULL::" + col.type() + ")";
            base = "(" + range + ")[1 + (" + r + ") % array_length(" + range + ", 1)]";
        } else if ("c".equals(col.typtype())) {
            List<String> values = new ArrayList<>();
            for (int i = 0; i < col.fields().size(); i++) {
                values.add(value(col.fields().get(i), r + " + " + i));
            }
            base = "ROW(" + String.join(", ", values) + ")";
        } else if ("A".equals(col.category())) {
            String elem = VALUES.get(col.elem());
            if (elem == null) {
                throw new IllegalStateException("no value for arrays of " + col.elem() + " (" + col + ")");
            }
            base = "ARRAY[" + elem.replace("$r", "(" + r + ")") + ", NULL, " + elem.replace("$r", "(" + r + " + 1)") + "]";
        } else {
            String v = VALUES.get(col.base());
            if (v == null) {
                throw new IllegalStateException("no value for type " + col.base() + " (" + col + ")");
            }
            base = v.replace("$r", "(" + r + ")");
        }
        return "CAST(" + base + " AS " + col.type() + ")";
    }

    private static String quote(String name) {
        return "\"" + name + "\"";
    }

    /** Columns a statement may set: not generated, not identity ALWAYS. */
    private static List<Column> settable(Target t) {
        return t.columns().stream().filter(c -> !c.generated() && !c.identityAlways()).toList();
    }

    /**
     * An INSERT of one row: keys get r, the rest a number made of r; serial and identity columns
     * their defaults. A key taken is no error, but where rules forbid ON CONFLICT.
     */
    private static String insert(Target t, int r) {
        List<String> names = new ArrayList<>();
        List<String> values = new ArrayList<>();
        for (Column c : settable(t)) {
            if (!c.serial()) {
                names.add(quote(c.name()));
                values.add(value(c, c.key() ? Integer.toString(r) : Long.toString(r * 7919L % 1_000_003)));
            }
        }
        return "INSERT INTO " + t.name() + " (" + String.join(", ", names) + ") VALUES (" + String.join(", ", values)
                + ")" + (t.rules() ? "" : " ON CONFLICT DO NOTHING");
    }

    /** The rows a statement picks: two by key through a parent (its children's too), else two by ctid. */
    private static String rows(Target t, int offset) {
        if (t.viaKey()) {
            String k = String.join(", ", t.keys().stream().map(RegressionSchemaIT::quote).toList());
            return t.name() + " WHERE (" + k + ") IN (SELECT " + k + " FROM " + t.name() + " ORDER BY " + k
                    + " OFFSET " + offset + " LIMIT 2)";
        }
        return "ONLY " + t.name() + " WHERE ctid = ANY (ARRAY(SELECT ctid FROM ONLY " + t.name() + " OFFSET " + offset
                + " LIMIT 2))";
    }

    /**
     * An UPDATE of one to three settable columns, now and then to NULL; a key column (through a
     * partitioned parent: a partition key, so the row moves) one time in three.
     */
    private static String update(Target t, ThreadLocalRandom rnd) {
        List<Column> cols = new ArrayList<>(settable(t).stream().filter(c -> !c.key() && !c.serial()).toList());
        List<Column> keys = settable(t).stream().filter(Column::key).toList();
        List<String> sets = new ArrayList<>();
        if (!keys.isEmpty() && (cols.isEmpty() || rnd.nextInt(3) == 0)) {
            Column k = keys.get(rnd.nextInt(keys.size()));
            sets.add(quote(k.name()) + " = " + value(k, Integer.toString(rnd.nextInt(300))));
        }
        for (int i = rnd.nextInt(3); i >= 0 && !cols.isEmpty(); i--) {
            Column c = cols.remove(rnd.nextInt(cols.size()));
            sets.add(quote(c.name()) + " = " + (!c.notNull() && rnd.nextInt(10) == 0 ? "NULL"
                    : value(c, Integer.toString(rnd.nextInt(1_000_000)))));
        }
        String[] target = rows(t, rnd.nextInt(150)).split(" WHERE ", 2);
        return "UPDATE " + target[0] + " SET " + String.join(", ", sets) + " WHERE " + target[1];
    }

    private static String delete(Target t, ThreadLocalRandom rnd) {
        return "DELETE FROM " + rows(t, rnd.nextInt(150));
    }

    /**
     * Per statement a table at random, then an insert (4 in 10), an update (4 in 10: keys and
     * partition keys too) or a delete; one statement in 400 a TRUNCATE of a table (partitions
     * included), 7 in 400 a nextval.
     */
    private static Writers.Workload workload(List<Target> targets, List<String> tables, AtomicLong statements) {
        return rnd -> {
            statements.incrementAndGet();
            int pick = rnd.nextInt(400);
            if (pick == 0) {
                return "TRUNCATE ONLY " + tables.get(rnd.nextInt(tables.size()));
            }
            if (pick < 8) {
                return "SELECT nextval('counter_seq')";
            }
            Target t = targets.get(rnd.nextInt(targets.size()));
            int kind = rnd.nextInt(10);
            return kind < 4 ? insert(t, rnd.nextInt(300)) : kind < 8 ? update(t, rnd) : delete(t, rnd);
        };
    }

    /** Seeds every written table with 200 rows. */
    private void seed(List<Target> targets) {
        for (Target t : targets) {
            String[] rows = new String[200];
            for (int r = 0; r < rows.length; r++) {
                rows[r] = insert(t, r);
            }
            src.exec(rows);
        }
    }

    /**
     * Every kind of statement of every table runs on the source (then is rolled back): the writers
     * would hide a statement the generator got wrong, as they roll back every error. Only a
     * constraint's refusal (class 23: a key taken, say) is allowed.
     */
    private void smokeTest(List<Target> targets) throws SQLException {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        try (Connection c = src.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (Target t : targets) {
                List<String> tries = new ArrayList<>(List.of(insert(t, 1000), delete(t, rnd)));
                for (int i = 0; i < 10; i++) {
                    tries.add(update(t, rnd));
                }
                for (String sql : tries) {
                    st.execute("SAVEPOINT s");
                    try {
                        st.execute(sql);
                    } catch (SQLException e) {
                        assertTrue(e.getSQLState().startsWith("23"), sql + ": " + e.getMessage());
                        st.execute("ROLLBACK TO SAVEPOINT s");
                    }
                }
            }
            c.rollback();
        }
    }
}
