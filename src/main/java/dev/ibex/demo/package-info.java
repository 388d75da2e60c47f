/**
 * The self-contained demo: two embedded PostgreSQL servers driven through the CLI it is handed.
 * Only cli may call it; it never reaches below the CLI.
 */
package dev.ibex.demo;
