package dev.ibex.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.IbexException;
import dev.ibex.pg.NamePattern;
import java.util.List;
import org.junit.jupiter.api.Test;

class WordsTest {

    static final Words.Keys KEYS = Words.Keys.of("dbname|db", "host|dbhost|pghost", "conn|dbconn");

    @Test
    void keyValueAndKeyColonValueWithAliases() {
        Words w = Words.parse("ibex add db", List.of("a", "db:shop", "pghost=::1", "conn=sslmode=require", "b:target"), KEYS);
        assertEquals(List.of("a", "b:target"), w.nouns());
        assertEquals("shop", w.get("dbname"));
        assertEquals("::1", w.get("host"));
        assertEquals("sslmode=require", w.get("conn"));
    }

    @Test
    void unknownKeyAndRepeatedKeyAreErrors() {
        IbexException e = assertThrows(IbexException.class, () -> Words.parse("ibex add db", List.of("colour=red"), KEYS));
        assertTrue(e.getMessage().startsWith("Unknown option 'colour' for 'ibex add db'"), e.getMessage());
        assertThrows(IbexException.class, () -> Words.parse("ibex add db", List.of("db=a", "dbname=b"), KEYS));
    }

    @Test
    void emptyValuesAreRefusedWhereANameBelongs() {
        Words w = Words.parse("ibex add table", List.of("t", "relgroup=", "db=src"), Words.Keys.of("db", "relgroup"));
        IbexException e = assertThrows(IbexException.class, () -> w.nonEmpty("db", "relgroup"));
        assertEquals("Missing value for relgroup= in 'ibex add table': give one (relgroup=RELGROUP), or leave relgroup= "
                + "out", e.getMessage());
        assertEquals("src", w.nonEmpty("db").get("db"));
    }

    @Test
    void errorsStayOneLine() {
        assertEquals("No sync named \"\\r\\nsync\\u0000\\t\" é 表", IbexCommand.oneLine("No sync named \"\r\nsync\u0000\t\" é 表"));
    }

    @Test
    void booleansAndLists() {
        for (String t : List.of("t", "true", "on", "yes", "1", "TRUE")) {
            assertTrue(Words.bool("k", t));
        }
        for (String f : List.of("f", "false", "off", "no", "0")) {
            assertFalse(Words.bool("k", f));
        }
        assertThrows(IbexException.class, () -> Words.bool("k", "maybe"));
        assertEquals(List.of("a", "\"Line Items\"", "crm.b"), Words.list("a,\"Line Items\" crm.b"));
    }

    @Test
    void namePatterns() {
        NamePattern p = NamePattern.parse("crm.\"Line Items\"");
        assertEquals("crm", p.schema().text());
        assertEquals("Line Items", p.name().text());
        assertTrue(p.matches("crm", "Line Items"));
        assertFalse(p.matches("crm", "line items"));
        assertTrue(NamePattern.parse("order%").matches("public", "order_items"));
        assertTrue(NamePattern.parse("crm.*").matches("crm", "x"));
        assertFalse(NamePattern.parse("crm.*").matches("public", "x"));
        assertTrue(NamePattern.parse("Orders").matches("public", "orders"));
        assertThrows(IbexException.class, () -> NamePattern.parse("a.b.c"));
        assertThrows(IbexException.class, () -> NamePattern.parse("\"open"));
    }

    @Test
    void nounsInBucardosSpellings() {
        assertEquals(Noun.DB, Noun.of("databases", "list"));
        assertEquals(Noun.DBGROUP, Noun.of("dbgroups", "list"));
        assertEquals(Noun.RELGROUP, Noun.of("herd", "add"));
        assertEquals(Noun.SYNC, Noun.of("syncs", "list"));
        assertEquals(Noun.TABLE, Noun.of("tables", "add"));
        assertEquals(Noun.SEQUENCE, Noun.of("sequences", "add"));
        assertThrows(IbexException.class, () -> Noun.of("gizmo", "add"));
    }
}
