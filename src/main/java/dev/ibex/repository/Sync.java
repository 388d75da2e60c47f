package dev.ibex.repository;

/**
 * A sync: relgroup + dbgroup + options, as stored in ibex.sync. checktime and lifetime are seconds,
 * null when unset.
 */
public record Sync(String name, String relgroup, String dbgroup, String status, boolean paused, boolean autokick,
                   Long checktime, OneTimeCopy onetimecopy, boolean stayalive, boolean kidsalive, String conflictStrategy,
                   Long lifetime, int maxkicks, String isolationLevel, int rebuildIndex, boolean analyzeAfterCopy,
                   boolean strictChecking, int priority) {

    public boolean active() {
        return "active".equals(status);
    }
}
