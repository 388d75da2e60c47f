package dev.ibex.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 in front of one server, for faults of the network: every connection a
 * client makes to {@link #port()} is relayed to the server by two threads, one per direction.
 * {@link #dropAll()} resets every relayed connection at once (an RST to both ends, as a broken
 * network or a firewall does), {@link #refuse(boolean)} makes new connections fail until it
 * is lifted, and {@link #holdNext(int)} keeps the next connections waiting before the server sees
 * them (a client that stood still while connecting) until {@link #release()}. Plain sockets, no
 * library.
 */
public final class TcpProxy implements AutoCloseable {

    /** One relayed connection: the client's socket and ours to the server. */
    private record Pair(Socket client, Socket server) {
        void reset() {
            abort(client);
            abort(server);
        }
    }

    private final String host;
    private final int serverPort;
    private final ServerSocket listener;
    private final Thread acceptor;
    private final List<Pair> open = new CopyOnWriteArrayList<>();
    private final AtomicBoolean refusing = new AtomicBoolean();
    private final AtomicInteger toHold = new AtomicInteger();
    private final List<Socket> held = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong toServer = new AtomicLong();
    private final AtomicLong toClient = new AtomicLong();

    private TcpProxy(String host, int serverPort) throws IOException {
        this.host = host;
        this.serverPort = serverPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::accept, "tcp-proxy-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A proxy to {@code host}:{@code port}, listening on a free port of 127.0.0.1. */
    public static TcpProxy to(String host, int port) {
        try {
            return new TcpProxy(host, port);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a proxy port", e);
        }
    }

    /** A proxy in front of {@code db}'s server. */
    public static TcpProxy to(TestDb db) {
        return to(db.host(), db.port());
    }

    /** {@code db} as reached through this proxy: the same database, on the proxy's address. */
    public TestDb address(TestDb db) {
        return new TestDb(db.server(), "127.0.0.1", port(), db.name(), db.user());
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Connections accepted so far, refused ones included. */
    public long accepted() {
        return accepted.get();
    }

    /** Connections relayed now. */
    public int open() {
        return open.size();
    }

    /** Connections ended by {@link #dropAll()} or refused. */
    public long dropped() {
        return dropped.get();
    }

    /** Bytes relayed from clients to the server so far. */
    public long bytesToServer() {
        return toServer.get();
    }

    /** Bytes relayed from the server to clients so far. */
    public long bytesToClient() {
        return toClient.get();
    }

    /** Resets every relayed connection (RST both ways); returns how many there were. */
    public int dropAll() {
        int n = 0;
        for (Pair p : open) {
            open.remove(p);
            p.reset();
            dropped.incrementAndGet();
            n++;
        }
        return n;
    }

    /**
     * While true, a new connection is accepted and reset at once, before the server sees it: a
     * client's connect fails as when a firewall rejects it. Open connections are left alone.
     */
    public void refuse(boolean refuse) {
        refusing.set(refuse);
    }

    /**
     * The next {@code n} connections are accepted but not relayed: their clients wait for the
     * server's first answer, and the server has no backend for them (no pg_stat_activity row),
     * until {@link #release()}. Later connections are relayed as usual.
     */
    public void holdNext(int n) {
        toHold.set(n);
    }

    /** Connections held by {@link #holdNext(int)} now. */
    public int held() {
        return held.size();
    }

    /** Relays the held connections to the server, as if they had just arrived. */
    public void release() {
        for (Socket client : held) {
            held.remove(client);
            relay(client);
        }
    }

    private void accept() {
        while (!closed.get()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                if (closed.get()) {
                    return;
                }
                continue;
            }
            accepted.incrementAndGet();
            if (refusing.get()) {
                dropped.incrementAndGet();
                abort(client);
                continue;
            }
            if (toHold.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                held.add(client);
                continue;
            }
            relay(client);
        }
    }

    /** Connects to the server for {@code client} and relays both ways. */
    private void relay(Socket client) {
        Socket server = new Socket();
        try {
            server.connect(new InetSocketAddress(host, serverPort), 10_000);
            client.setTcpNoDelay(true);
            server.setTcpNoDelay(true);
        } catch (IOException e) {
            abort(client);
            abort(server);
            return;
        }
        Pair p = new Pair(client, server);
        open.add(p);
        pump(p, client, server, toServer, "up");
        pump(p, server, client, toClient, "down");
    }

    /** A thread copying {@code from} to {@code to}; when either ends, the pair ends. */
    private void pump(Pair p, Socket from, Socket to, AtomicLong counter, String direction) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    out.flush();
                    counter.addAndGet(n);
                }
            } catch (IOException e) {
                // reset or closed: the pair ends below
            } finally {
                if (open.remove(p)) {
                    // one side closed cleanly (a client that logs out): close the other the same way
                    close(p.client());
                    close(p.server());
                }
            }
        }, "tcp-proxy-" + port() + "-" + direction);
        t.setDaemon(true);
        t.start();
    }

    /** Closes with an RST: SO_LINGER 0 discards what is unsent and resets the connection. */
    private static void abort(Socket s) {
        try {
            if (!s.isClosed() && s.isConnected()) {
                s.setSoLinger(true, 0);
            }
        } catch (SocketException e) {
            // closing anyway
        }
        close(s);
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing left to do
        }
    }

    /** Stops listening and resets what is still open. */
    @Override
    public void close() {
        closed.set(true);
        try {
            listener.close();
        } catch (IOException e) {
            // nothing left to do
        }
        held.forEach(TcpProxy::abort);
        held.clear();
        dropAll();
    }
}
