package dev.ibex.status;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CopyDetailTest {

    @Test
    void sumsTheTablesBeingCopied() {
        assertEquals(new CopyDetail(1210, 5010), CopyDetail.of("copy public.a 1200/5000 rows 3.1 MB/s ETA 00:04; "
                + "copy public.b 10/10 rows (1 of 3 tables copied)"));
    }

    @Test
    void anUnknownSizeCountsWhatIsCopied() {
        assertEquals(new CopyDetail(7, 7), CopyDetail.of("copy \"odd name\".t 7 rows (0 of 1 tables copied)"));
    }

    @Test
    void otherDetailsAreNoCopy() {
        assertEquals(CopyDetail.NONE, CopyDetail.of("120 keys in 2 steps"));
        assertEquals(CopyDetail.NONE, CopyDetail.of(null));
        assertEquals(CopyDetail.NONE, CopyDetail.of("copy (0 of 3 tables copied)"));
    }
}
