/**
 * The capture objects on a source: ibex.log, the delta tables, triggers and their install, re-capture and purge,
 * and the repository locks that keep a change of what reads a source apart from its runs and purges (ModelLocks).
 * It is the only package that writes DDL on a source; it does not apply changes to targets.
 */
package dev.ibex.capture;
