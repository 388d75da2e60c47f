package dev.ibex.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CatalogTest {

    /** Keys are cast to their type without length or precision, so that a column widened in place keeps them exact. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "character varying(3)|character varying",
        "character(5)|bpchar",
        "bit(3)|\"bit\"",
        "bit varying(8)|bit varying",
        "numeric(5,2)|numeric",
        "numeric(7)|numeric",
        "timestamp(3) without time zone|timestamp without time zone",
        "timestamp(0) with time zone|timestamp with time zone",
        "time(6) without time zone|time without time zone",
        "time(2) with time zone|time with time zone",
        "interval day to second(3)|interval",
        "interval(2)|interval",
        "integer|integer",
        "text|text",
        "character varying|character varying",
        "\"mood(1)\"|\"mood(1)\"",
        "public.\"numeric(5,2)\"|public.\"numeric(5,2)\""})
    void aKeyTypeLosesOnlyItsModifier(String formatType, String cast) {
        assertEquals(cast, Catalog.withoutModifier(formatType));
    }
}
