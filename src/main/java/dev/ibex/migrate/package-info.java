/**
 * Migration checks and steps: validate, copy schema, compare and repair rows, cutover.
 * It reads sources and targets and may drive runs through replicate; it does not install capture.
 */
package dev.ibex.migrate;
