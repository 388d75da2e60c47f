package dev.ibex.migrate;

/** The outcome of one validation check; FAIL makes `ibex validate` exit 1. */
public enum CheckStatus {
    PASS, WARN, FAIL
}
