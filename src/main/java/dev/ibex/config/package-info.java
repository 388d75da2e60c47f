/**
 * Settings: each defined once with name, default and description, resolved from options, environment and YAML.
 * It reads no database.
 */
package dev.ibex.config;
