package dev.ibex.replicate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CopyProgressTest {

    @Test
    void linesShowRowsRateAndEta() {
        assertEquals("copy public.orders 1200000/5000000 rows 42.1 MB/s ETA 01:35",
                CopyProgress.line("public.orders", 1_200_000, 5_000_000, 1_263_000_000L, 30));
        assertEquals("copy public.t 10 rows", CopyProgress.line("public.t", 10, -1, 100, 0.1));
        assertEquals("copy public.t 500 rows 0.0 MB/s", CopyProgress.line("public.t", 500, -1, 500, 10));
        assertEquals("copy public.t 700/700 rows 0.0 MB/s", CopyProgress.line("public.t", 700, 600, 500, 10),
                "an estimate below the rows copied is not shown as less than done");
    }

    @Test
    void clock() {
        assertEquals("00:00", CopyProgress.clock(0));
        assertEquals("01:31", CopyProgress.clock(91));
        assertEquals("1:02:05", CopyProgress.clock(3725));
    }
}
