/**
 * ibex: trigger-based PostgreSQL replication in the tradition of Bucardo. The root holds the main class,
 * the one exception users see (IbexException), the exit codes and a JSON writer; only the main class calls down (into cli).
 */
package dev.ibex;
