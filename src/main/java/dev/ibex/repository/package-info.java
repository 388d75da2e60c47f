/**
 * The repository database: its schema, the model (dbs, relations, relgroups, dbgroups, syncs) and the run log.
 * Each repository table has one owner class here; it never connects to a source or a target.
 */
package dev.ibex.repository;
