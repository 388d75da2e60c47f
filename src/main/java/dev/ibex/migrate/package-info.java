/**
 * Migration checks and steps: validate, copy schema, compare and repair rows, cutover and the checks and
 * model of its way back (cutover --reverse; the cli installs its capture, as add sync does).
 * It reads sources and targets and may drive runs through replicate; it does not install capture.
 */
package dev.ibex.migrate;
