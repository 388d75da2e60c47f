package dev.ibex.pg;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The server features ibex's source-side SQL depends on or must avoid, each with the first version
 * that has it (release notes 8.4 … 18). Every statement ibex sends to a source must only use what
 * that source's version has: {@link #missing} checks a text, and the tests run it over every
 * statement a source received. A feature without a pattern is a behaviour the code asks about with
 * {@link ServerVersion#has}; one with a {@code without} text is told to the user of an old source.
 */
public enum SqlFeature {

    // ---- behaviours ibex adapts to (asked with ServerVersion.has) ----
    PLPGSQL_INSTALLED(90000, null, "PL/pgSQL is not installed by default",
            "ibex runs CREATE LANGUAGE plpgsql when the user may (the database owner), else names the command"),
    REPEATABLE_READ(90100, null, "REPEATABLE READ is the same level as SERIALIZABLE",
            "batches and copies read in SERIALIZABLE, the snapshot level of that version"),
    SNAPSHOT_EXPORT(90200, "\\bpg_export_snapshot\\s*\\(|\\bSET\\s+TRANSACTION\\s+SNAPSHOT\\b",
            "no exported snapshots (pg_export_snapshot)",
            "whole-table copies run one table at a time in the batch's own transaction: copy_parallel and "
                    + "copy_split_mb do not apply"),
    /** Before it, a large table is read in parts by ranges of an integer first key column: not worth a note. */
    TID_RANGE_SCAN(140000, null, null, null),
    BYTEA_OUTPUT(90000, "\\bbytea_output\\b", "bytea has only the escape text format",
            "bytea values travel in escape format, which every target reads"),
    // a quoted value is blanked before matching (SqlText): it counts as 3, write the number
    EXTRA_FLOAT_DIGITS_3(90000, "\\bextra_float_digits\\s*(=|TO)\\s*(3|'')", null, null),
    LOCK_TIMEOUT(90300, "\\block_timeout\\b", "no lock_timeout",
            "capture waits at most the same 5 s through statement_timeout"),
    EXTENSIONS(90100, "\\bpg_(available_)?extensions?\\b|\\bCREATE\\s+EXTENSION\\b", "no extensions",
            "validate compares procedural languages only"),
    LARGE_OBJECT_METADATA(90000, "\\bpg_largeobject_metadata\\b", null, null),
    CONTROL_SYSTEM(90600, "\\bpg_control_system\\s*\\(", null, null),

    // ---- syntax and catalog columns ibex never sends to an older source ----
    DO_BLOCK(90000, "(?m)^\\s*DO\\s+(\\$|'|LANGUAGE\\b)", null, null),
    STRING_AGG(90000, "\\bstring_agg\\s*\\(", null, null),
    // word by word, possessive: a long argument list must not take a stack frame per character
    AGGREGATE_ORDER_BY(90000, "\\b(array_agg|string_agg|xmlagg|json_agg)\\s*\\((?:[^()\\w]++|(?!ORDER\\b)\\w++"
            + "|\\([^()]*+(?:\\([^()]*+\\)[^()]*+)*+\\))*+ORDER\\s+BY\\b", null, null),
    TRIGGER_WHEN(90000, "\\bFOR\\s+EACH\\s+(ROW|STATEMENT)\\s+WHEN\\b", null, null),
    COPY_OPTION_LIST(90000, "\\bCOPY\\b[\\s\\S]*\\b(TO|FROM)\\s+(STDOUT|STDIN)\\s*(WITH\\s*)?\\(", null, null),
    GRANT_ON_ALL(90000, "\\bON\\s+ALL\\s+(TABLES|SEQUENCES|FUNCTIONS)\\s+IN\\s+SCHEMA\\b", null, null),
    HAS_SEQUENCE_PRIVILEGE(90000, "\\bhas_sequence_privilege\\s*\\(", null, null),
    TGISINTERNAL(90000, "\\btgisinternal\\b", null, null),
    TABLE_SIZE(90000, "\\bpg_(table|indexes)_size\\s*\\(", null, null),
    CREATE_TABLE_IF_NOT_EXISTS(90100, "\\bCREATE\\s+(UNLOGGED\\s+|TEMP(ORARY)?\\s+)?TABLE\\s+IF\\s+NOT\\s+EXISTS\\b", null, null),
    COLLATE(90100, "\\bCOLLATE\\b", null, null),
    CONCAT(90100, "\\bconcat(_ws)?\\s*\\(", null, null),
    FORMAT_FUNCTION(90100, "(?<![\\w.])(pg_catalog\\.)?format\\s*\\(", null, null),
    // any CTE of the WITH list, not only the first
    WRITABLE_CTE(90100, "\\bAS\\s*\\(\\s*(INSERT|UPDATE|DELETE)\\b", null, null),
    UNLOGGED(90100, "\\bUNLOGGED\\b", null, null),
    RELPERSISTENCE(90100, "\\brelpersistence\\b", null, null),
    FOREACH(90100, "\\bFOREACH\\b", null, null),
    ADVISORY_XACT_LOCK(90100, "\\bpg_(try_)?advisory_xact_lock", null, null),
    ALTER_IF_EXISTS(90200, "\\bALTER\\s+(TABLE|INDEX|SEQUENCE|VIEW)\\s+IF\\s+EXISTS\\b", null, null),
    STAT_ACTIVITY_92(90200, "\\bpg_stat_activity\\b[\\s\\S]*\\b(pid|state|query)\\b"
            + "|\\b(pid|state|query)\\b[\\s\\S]*\\bpg_stat_activity\\b", null, null),
    CREATE_SCHEMA_IF_NOT_EXISTS(90300, "\\bCREATE\\s+SCHEMA\\s+IF\\s+NOT\\s+EXISTS\\b", null, null),
    LATERAL(90300, "\\bLATERAL\\b", null, null),
    INDISLIVE(90300, "\\bindislive\\b", null, null),
    TO_REGCLASS(90400, "\\bto_reg(class|type|proc|procedure|oper|operator)\\s*\\(", null, null),
    FILTER(90400, "\\bFILTER\\s*\\(\\s*WHERE\\b", null, null),
    WITH_ORDINALITY(90400, "\\bWITH\\s+ORDINALITY\\b", null, null),
    JSONB(90400, "\\bjsonb\\b", null, null),
    // a comma at the call's own level (those inside (...) and ARRAY[...] separate something else);
    // possessive, so that a long ARRAY[...] does not take a stack frame per character
    UNNEST_SEVERAL(90400, "\\bunnest\\s*\\([^()\\[\\],]*+(?:(?:\\([^()\\[\\]]*+(?:(?:\\([^()\\[\\]]*+\\)|\\[[^()\\[\\]]*+\\])"
            + "[^()\\[\\]]*+)*+\\)|\\[[^()\\[\\]]*+(?:(?:\\([^()\\[\\]]*+\\)|\\[[^()\\[\\]]*+\\])[^()\\[\\]]*+)*+\\])"
            + "[^()\\[\\],]*+)*+,", null, null),
    CARDINALITY(90400, "\\bcardinality\\s*\\(", null, null),
    ON_CONFLICT(90500, "\\bON\\s+CONFLICT\\b", null, null),
    CREATE_INDEX_IF_NOT_EXISTS(90500, "\\bCREATE\\s+(UNIQUE\\s+)?INDEX\\s+(CONCURRENTLY\\s+)?IF\\s+NOT\\s+EXISTS\\b", null, null),
    CREATE_SEQUENCE_IF_NOT_EXISTS(90500, "\\bCREATE\\s+SEQUENCE\\s+IF\\s+NOT\\s+EXISTS\\b", null, null),
    SKIP_LOCKED(90500, "\\bSKIP\\s+LOCKED\\b", null, null),
    REG_NAMESPACE_ROLE(90500, "::\\s*(pg_catalog\\.)?reg(namespace|role)\\b|\\bto_reg(namespace|role)\\s*\\(", null, null),
    ARRAY_POSITION(90500, "\\barray_positions?\\s*\\(", null, null),
    COMMIT_TIMESTAMP(90500, "\\bpg_xact_commit_timestamp\\s*\\(", null, null),
    CURRENT_SETTING_MISSING_OK(90600, "\\bcurrent_setting\\s*\\([^(),]*,", null, null),
    ADD_COLUMN_IF_NOT_EXISTS(90600, "\\bADD\\s+(COLUMN\\s+)?IF\\s+NOT\\s+EXISTS\\b", null, null),
    PARTITIONS(100000, "\\brelispartition\\b|\\bpg_partitioned_table\\b", null, null),
    TRANSITION_TABLES(100000, "\\bREFERENCING\\s+(NEW|OLD)\\s+TABLE\\b", null, null),
    SEQUENCE_CATALOG(100000, "\\bpg_sequences?\\b", null, null),
    IDENTITY_COLUMNS(100000, "\\battidentity\\b|\\bAS\\s+IDENTITY\\b", null, null),
    INDNKEYATTS(110000, "\\bindnkeyatts\\b", null, null),
    EXECUTE_FUNCTION(110000, "\\bEXECUTE\\s+FUNCTION\\b", null, null),
    GENERATED_COLUMNS(120000, "\\battgenerated\\b|\\bGENERATED\\s+ALWAYS\\s+AS\\s*\\(", null, null),
    XACT_ID_FUNCTIONS(130000, "\\bpg_current_xact_id\\b|\\bpg_current_snapshot\\b|\\bpg_snapshot_\\w+", null, null),
    CREATE_OR_REPLACE_TRIGGER(140000, "\\bCREATE\\s+OR\\s+REPLACE\\s+(CONSTRAINT\\s+)?TRIGGER\\b", null, null);

    private final int since;
    private final Pattern pattern;
    private final String lack;
    private final String instead;

    SqlFeature(int since, String regex, String lack, String instead) {
        this.since = since;
        this.pattern = regex == null ? null : Pattern.compile(regex, Pattern.CASE_INSENSITIVE);
        this.lack = lack;
        this.instead = instead;
    }

    /** The first server_version_num that has it. */
    public int since() {
        return since;
    }

    /** "9.2". */
    public String sinceText() {
        return new ServerVersion(since).majorText();
    }

    /** The features {@code sql} uses that {@code version} lacks; string literals and comments are not looked at. */
    public static List<SqlFeature> missing(String sql, ServerVersion version) {
        String code = SqlText.code(sql);
        List<SqlFeature> out = new ArrayList<>();
        for (SqlFeature f : values()) {
            if (f.pattern != null && !version.has(f) && f.pattern.matcher(code).find()) {
                out.add(f);
            }
        }
        return out;
    }

    /**
     * What an old source lacks and what ibex does instead, one sentence each; empty for a version
     * that has all of it.
     */
    public static List<String> oldSourceNotes(ServerVersion version) {
        List<String> out = new ArrayList<>();
        for (SqlFeature f : values()) {
            if (f.lack != null && !version.has(f)) {
                out.add(f.lack + " (PostgreSQL " + f.sinceText() + "): " + f.instead);
            }
        }
        return out;
    }
}
