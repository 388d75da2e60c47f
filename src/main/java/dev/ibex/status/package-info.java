/**
 * What 'ibex status' shows and the controller's Prometheus endpoint serves (Micrometer): syncs, runs,
 * backlogs and controllers, read from the repository and the sources. It reads only; it changes no database.
 */
package dev.ibex.status;
