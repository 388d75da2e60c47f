package dev.ibex.pg;

/**
 * A database ibex connects to, known by its connection spec: the pools take the repository's dbs
 * through this, so pg does not depend on the repository's model.
 */
public interface Connectable {

    ConnectionSpec spec();
}
