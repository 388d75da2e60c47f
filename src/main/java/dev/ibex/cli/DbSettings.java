package dev.ibex.cli;

import dev.ibex.IbexException;
import dev.ibex.repository.Db;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/** The connection words of `add db` and `update db`, as ibex.db columns. */
final class DbSettings {

    static final String[] KEYS = {"dbname|db", "host|dbhost|pghost", "port|dbport|pgport",
        "user|username|dbuser", "pass|password|dbpass", "conn|dbconn|pgconn", "service|dbservice", "status|stat", "makedelta"};

    /** Key word -> repository column. */
    static final Map<String, String> COLUMN = Map.of("dbname", "dbname", "host", "host", "port", "port",
            "user", "username", "pass", "password", "conn", "conn", "service", "service", "status", "status", "makedelta", "makedelta");

    private DbSettings() {
    }

    /** The columns the words set; an empty value (host=) sets NULL, so the environment decides. */
    static Map<String, Object> columns(Words w) {
        Map<String, Object> c = new LinkedHashMap<>();
        for (String key : w.keys()) {
            String column = COLUMN.get(key);
            if (column == null) {
                continue;
            }
            Object value = switch (key) {
                case "port" -> w.integer(key, 1, 65535);
                case "status" -> {
                    String st = w.choice(key, "active", "inactive");
                    if (st == null) {
                        throw IbexException.badInput("Missing value for status=: use status=active or status=inactive");
                    }
                    yield st;
                }
                case "makedelta" -> {
                    if (w.get(key) == null) {
                        throw IbexException.badInput("Missing value for makedelta=: use makedelta=1 or makedelta=0");
                    }
                    yield w.bool(key);
                }
                default -> w.get(key);
            };
            c.put(column, value);
        }
        return c;
    }

    static Db db(String name, Map<String, Object> c, String status) {
        return new Db(name, (String) c.get("dbname"), (String) c.get("host"), (Integer) c.get("port"),
                (String) c.get("username"), (String) c.get("password"), (String) c.get("conn"),
                (String) c.get("service"), status);
    }

    /** Connects once; on failure throws the connection error, or with --force says so and goes on. */
    static void testConnection(Session s, Db db) {
        try (Connection c = db.spec().connect("ibex")) {
            c.isValid(5);
        } catch (IbexException e) {
            if (!s.force) {
                throw new IbexException(e.exitCode(), e.getMessage() + " (nothing saved; --force saves anyway)",
                        e.causeLine(), e);
            }
            s.say("Warning: " + e.getMessage() + " (saved anyway because of --force)");
        } catch (SQLException e) {
            // closing failed: the connection worked
        }
    }
}
