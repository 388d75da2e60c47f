/**
 * One run of a sync: read the source's changes since S_prev, apply them to every target in one transaction
 * each, copy tables whole (onetimecopy, fullcopy) and record the run. It does not schedule runs or install triggers.
 */
package dev.ibex.replicate;
