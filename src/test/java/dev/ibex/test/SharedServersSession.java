package dev.ibex.test;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Stops the servers {@link PgServers} shares between test classes when the JUnit session ends:
 * after the last test, before the fork's System.exit. Registered in
 * META-INF/services/org.junit.platform.launcher.LauncherSessionListener.
 */
public final class SharedServersSession implements LauncherSessionListener {

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        PgServers.closeShared();
    }
}
