package dev.ibex.controller;

import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * The NOTIFY channels between the CLI and the controller, all on the repository database. Payloads
 * are sync names unless said otherwise.
 */
public final class Channels {

    /** CLI -> controller: run this sync (payload: sync name). */
    public static final String KICK = "ibex_kick";
    /** CLI -> controller: finish the current batches and exit (payload: reason, may be empty). */
    public static final String STOP = "ibex_stop";
    /**
     * CLI -> controller: re-read syncs (payload: empty for all, else comma-separated sync names;
     * from a client that waits for the answer, after a token, see {@link #reloadRequest}).
     */
    public static final String RELOAD = "ibex_reload";
    /** controller -> CLI: a reload is done (payload: the request's payload). */
    public static final String RELOADED = "ibex_reloaded";
    /** controller -> CLI: a run of this sync ended (payload: sync name). */
    public static final String RUN_END = "ibex_run_end";

    /** The token {@link #reloadRequest} puts first: 16 hex digits and a colon. */
    private static final Pattern TOKEN = Pattern.compile("^[0-9a-f]{16}:");

    private Channels() {
    }

    /**
     * The payload of a reload request whose answer a client waits for: a token of its own, then the
     * syncs. The controller answers with the request's payload, so the client tells its answer
     * from the answer to an earlier request (a command that did not wait, say 'ibex resume' before
     * 'ibex deactivate S 10') that the controller sends after this client started listening: taken
     * for its own, it let the command report done before the controller had acted on it.
     */
    public static String reloadRequest(String syncs) {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE) + ":" + syncs;
    }

    /** The syncs a reload request names: its payload without the token, if it has one. */
    public static String reloadSyncs(String payload) {
        return TOKEN.matcher(payload).replaceFirst("");
    }
}
