/**
 * What 'ibex status' shows: syncs, runs, backlogs and controllers, read from the repository and the sources.
 * It reads only; it never changes the repository or a database.
 */
package dev.ibex.status;
