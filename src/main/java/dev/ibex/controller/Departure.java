package dev.ibex.controller;

import dev.ibex.repository.Repository;
import java.util.Optional;

/**
 * Why a sync this controller ran is no longer its to run, as the repository now says, for the log
 * line that stops its kid: a lone controller that said "another controller" after 'ibex deactivate'
 * sent its reader looking for a second controller that does not exist.
 */
enum Departure {
    REMOVED("was removed"),
    INACTIVE("was made inactive"),
    PAUSED("was paused");

    private static final String SYNC = "SELECT status, paused FROM ibex.sync WHERE name = ?";

    private final String text;

    Departure(String text) {
        this.text = text;
    }

    /** "was made inactive": follows "Sync NAME ". */
    String text() {
        return text;
    }

    /**
     * What happened to the sync; empty when it is still active and unpaused (so it went to, or is
     * kept by, another controller). Does not commit.
     */
    static Optional<Departure> of(Repository repo, String sync) {
        Optional<String> status = repo.one(SYNC, rs -> rs.getBoolean(2) ? PAUSED.name() : rs.getString(1), sync);
        if (status.isEmpty()) {
            return Optional.of(REMOVED);
        }
        return switch (status.get()) {
            case "active" -> Optional.empty();
            case "PAUSED" -> Optional.of(PAUSED);
            default -> Optional.of(INACTIVE);
        };
    }
}
