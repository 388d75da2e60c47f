/**
 * The command line: parses Bucardo's verbs and key=value words, calls the layers below and prints.
 * It owns no SQL and no domain rule; nothing else may call it.
 */
package dev.ibex.cli;
