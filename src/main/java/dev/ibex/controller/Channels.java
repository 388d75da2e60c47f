package dev.ibex.controller;

/**
 * The NOTIFY channels between the CLI and the controller, all on the repository database. Payloads
 * are sync names unless said otherwise.
 */
public final class Channels {

    /** CLI -> controller: run this sync (payload: sync name). */
    public static final String KICK = "ibex_kick";
    /** CLI -> controller: finish the current batches and exit (payload: reason, may be empty). */
    public static final String STOP = "ibex_stop";
    /** CLI -> controller: re-read syncs (payload: empty for all, else comma-separated sync names). */
    public static final String RELOAD = "ibex_reload";
    /** controller -> CLI: a reload is done (payload: the request's payload). */
    public static final String RELOADED = "ibex_reloaded";
    /** controller -> CLI: a run of this sync ended (payload: sync name). */
    public static final String RUN_END = "ibex_run_end";

    private Channels() {
    }
}
