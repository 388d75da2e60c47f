package dev.ibex.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ibex.pg.SqlState.Kind;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SqlStateTest {

    @Test
    void codesAreFiveCharactersAndUnique() {
        assertEquals(SqlState.values().length, Arrays.stream(SqlState.values()).map(SqlState::code).distinct().count());
        Arrays.stream(SqlState.values()).forEach(s -> assertTrue(s.code().matches("[0-9A-Z]{5}"), s.name()));
    }

    @Test
    void findsTheStateOfAnException() {
        SQLException e = new SQLException("relation \"t\" does not exist", "42P01");
        assertTrue(SqlState.UNDEFINED_TABLE.is(e));
        assertEquals(Optional.of(SqlState.UNDEFINED_TABLE), SqlState.of(e.getSQLState()));
        assertEquals(Optional.empty(), SqlState.of(null));
    }

    @Test
    void findsTheStateAmongTheCauses() {
        SQLException refused = new SQLException("password authentication failed", "28P01");
        assertEquals("28P01", SqlState.in(new IllegalStateException("Cannot connect", refused)));
        assertEquals(null, SqlState.in(new IllegalStateException("no database here")));
        assertEquals(null, SqlState.in(null));
    }

    @Test
    void classifiesListedStatesByTheirKindAndOthersByClass() {
        assertEquals(Kind.NEEDS_A_PERSON, SqlState.kindOf("28P01"));
        assertEquals(Kind.TRANSIENT, SqlState.kindOf("55P03"));
        assertEquals(Kind.CONNECTION, SqlState.kindOf("08006"));
        assertEquals(Kind.CONNECTION, SqlState.kindOf("57P01"), "pg_terminate_backend, shutdown");
        assertEquals(Kind.TRANSIENT, SqlState.kindOf("57P03"));
        assertEquals(Kind.CONNECTION, SqlState.kindOf(null), "pgjdbc's I/O errors have no state");
        assertEquals(Kind.TRANSIENT, SqlState.kindOf("40P01"));
        assertEquals(Kind.NEEDS_A_PERSON, SqlState.kindOf("53100"), "disk full: someone must free space");
        assertEquals(Kind.TRANSIENT, SqlState.kindOf("53200"), "out of memory");
        assertEquals(Kind.NEEDS_A_PERSON, SqlState.kindOf("22P02"));
    }
}
