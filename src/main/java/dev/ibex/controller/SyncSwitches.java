package dev.ibex.controller;

import dev.ibex.repository.Repository;
import dev.ibex.repository.Sync;
import java.util.List;

/**
 * activate / deactivate / pause / resume: a change to ibex.sync and a reload notice in one
 * transaction, so a running controller acts on exactly what was committed.
 */
public final class SyncSwitches {

    private SyncSwitches() {
    }

    public static List<String> setStatus(Repository repo, List<Sync> syncs, String status) {
        List<String> names = syncs.stream().map(Sync::name).toList();
        repo.update("UPDATE ibex.sync SET status = ? WHERE name = ANY(?)", status, names);
        return names;
    }

    /** Bucardo pauses and resumes active syncs only; returns those switched. */
    public static List<String> setPaused(Repository repo, List<Sync> syncs, boolean paused) {
        List<String> names = syncs.stream().filter(Sync::active).map(Sync::name).toList();
        repo.update("UPDATE ibex.sync SET paused = ? WHERE name = ANY(?)", paused, names);
        return names;
    }

    /** Queues the reload notice (sent at commit) and commits; returns its payload, which the answer carries. */
    public static String commitAndReload(Repository repo, List<String> names) {
        String request = Channels.reloadRequest(String.join(",", names));
        new ControllerClient(repo).notify(Channels.RELOAD, request);
        repo.commit();
        return request;
    }
}
