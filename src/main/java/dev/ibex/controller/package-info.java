/**
 * The daemon: one kid (worker thread) per active sync, autokick listeners, timers, kicks, pid file and stop.
 * It schedules runs of replicate and never writes to sources or targets itself.
 */
package dev.ibex.controller;
