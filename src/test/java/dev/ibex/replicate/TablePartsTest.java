package dev.ibex.replicate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The parts of a split table cover every row once: open at both ends, each bound in exactly two parts. */
class TablePartsTest {

    @Test
    void blockRangesAreOpenAtBothEnds() {
        assertEquals(List.of("ibex_t.ctid < '(25,0)'::tid",
                "ibex_t.ctid >= '(25,0)'::tid AND ibex_t.ctid < '(50,0)'::tid",
                "ibex_t.ctid >= '(50,0)'::tid AND ibex_t.ctid < '(75,0)'::tid",
                "ibex_t.ctid >= '(75,0)'::tid"), TableParts.blockRanges(100, 4));
        assertEquals(List.of("ibex_t.ctid < '(3,0)'::tid", "ibex_t.ctid >= '(3,0)'::tid"), TableParts.blockRanges(7, 2));
    }

    @Test
    void keyRangesSplitTheSpanAndSurviveExtremes() {
        assertEquals(List.of("k <= -50", "k > -50 AND k <= 0", "k > 0 AND k <= 50", "k > 50"),
                TableParts.keyRanges("k", BigInteger.valueOf(-100), BigInteger.valueOf(100), 4));
        BigInteger min = BigInteger.valueOf(Long.MIN_VALUE);
        BigInteger max = BigInteger.valueOf(Long.MAX_VALUE);
        assertEquals(List.of("k <= -1", "k > -1"), TableParts.keyRanges("k", min, max, 2));
    }

    @Test
    void aNarrowSpanGivesFewerPartsOrNone() {
        assertEquals(List.of("k <= 5", "k > 5"), TableParts.keyRanges("k", BigInteger.valueOf(5),
                BigInteger.valueOf(6), 4));
        assertEquals(List.of(), TableParts.keyRanges("k", BigInteger.valueOf(7), BigInteger.valueOf(7), 4));
    }
}
