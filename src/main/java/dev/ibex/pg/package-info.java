/**
 * PostgreSQL plumbing: connections and pools, catalog reads, server versions and their features, SQLSTATEs, quoting.
 * It knows nothing of syncs or the repository.
 */
package dev.ibex.pg;
