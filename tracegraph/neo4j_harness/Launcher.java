// Starts a real Neo4j (the neo4j-harness, in-process) for tracegraph's test suite.
//
// Run as a single-file program on Java 17+ with the jars collected by pom.xml:
//
//   java -Xmx1g -cp '<cache>/lib/*' Launcher.java [--port N] [--auth|--no-auth]
//        [--pagecache SIZE] [--dir PATH] [--data PATH]
//
// --port 0 (the default) lets the OS pick a free port; the port actually bound is
// reported in the ready line. --dir names an empty working directory (created if
// missing) to use instead of a fresh temporary one; either way it is deleted on exit.
// --data names a data directory (databases and transaction logs) that is kept: a server
// started again on it, even after SIGKILL, recovers and serves the same data. With
// --auth the password for user "neo4j" is read
// from the environment variable TRACEGRAPH_NEO4J_HARNESS_PASSWORD (at least 8
// characters) and set on the system database before the ready line, so clients
// never see the harness's expired default password.
//
// stdout carries exactly one line, once Bolt accepts connections:
//   TRACEGRAPH_NEO4J_READY bolt://127.0.0.1:PORT
// Everything else goes to stderr. The database is closed and its temporary
// directory deleted on SIGTERM/SIGINT or when stdin reaches end-of-file (so the
// JVM follows its parent process down).

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Map;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;
import org.neo4j.io.ByteUnit;

public final class Launcher {
    static final String READY = "TRACEGRAPH_NEO4J_READY";
    static final String PASSWORD_ENV = "TRACEGRAPH_NEO4J_HARNESS_PASSWORD";

    private static final Object LOCK = new Object();
    private static Neo4j neo4j;
    private static Path workDir;
    private static boolean stopped;

    public static void main(String[] args) throws Exception {
        int port = 0;
        boolean auth = true;
        long pageCacheBytes = ByteUnit.mebiBytes(128);
        Path dirArg = null;
        Path dataArg = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--auth" -> auth = true;
                case "--no-auth" -> auth = false;
                case "--pagecache" -> pageCacheBytes = ByteUnit.parse(args[++i]);
                case "--dir" -> dirArg = Path.of(args[++i]);
                case "--data" -> dataArg = Path.of(args[++i]).toAbsolutePath();
                default -> {
                    System.err.println("Launcher: unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        String password = null;
        if (auth) {
            password = System.getenv(PASSWORD_ENV);
            if (password == null || password.length() < 8) {
                System.err.println("Launcher: --auth needs " + PASSWORD_ENV + " (8+ characters)");
                System.exit(2);
            }
        }

        // Keep stdout for the ready line only: anything the engine prints goes to stderr.
        PrintStream readyOut = System.out;
        System.setOut(System.err);

        Runtime.getRuntime().addShutdownHook(new Thread(Launcher::shutdown, "tracegraph-neo4j-shutdown"));

        URI bolt;
        synchronized (LOCK) {
            if (stopped) {
                return;
            }
            try {
                workDir = dirArg != null
                        ? Files.createDirectories(dirArg)
                        : Files.createTempDirectory("tracegraph-neo4j-");
                var builder = Neo4jBuilders.newInProcessBuilder(workDir);
                if (dataArg != null) {
                    builder = builder.withConfig(GraphDatabaseSettings.data_directory,
                            Files.createDirectories(dataArg));
                }
                neo4j = builder
                        .withDisabledServer() // no HTTP/HTTPS connectors
                        .withConfig(BoltConnector.enabled, true)
                        .withConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                        .withConfig(GraphDatabaseSettings.auth_enabled, auth)
                        .withConfig(GraphDatabaseSettings.pagecache_memory, pageCacheBytes)
                        // Netty's graceful shutdown otherwise idles ~2 s per event loop group
                        // (10+ s in all); a throwaway test server does not need the grace.
                        .withConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                        .withConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(2))
                        .build();
                if (auth) {
                    // The harness creates user neo4j with password 'neo4j' marked as expired.
                    // Embedded transactions run without a login, so set the real one directly.
                    neo4j.databaseManagementService()
                            .database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME)
                            .executeTransactionally(
                                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED",
                                    Map.of("pw", password));
                }
                bolt = neo4j.boltURI();
            } catch (Throwable e) {
                e.printStackTrace(System.err);
                stopped = true;
                closeQuietly();
                bolt = null;
            }
        }
        if (bolt == null) {
            System.exit(1); // outside LOCK: the shutdown hook takes it too
            return;
        }

        readyOut.println(READY + " bolt://127.0.0.1:" + bolt.getPort());
        readyOut.flush();

        // Block until the parent closes our stdin (or dies); SIGTERM also ends us via the hook.
        InputStream in = System.in;
        byte[] buf = new byte[256];
        try {
            while (in.read(buf) != -1) {
                // ignore input
            }
        } catch (IOException ignored) {
            // treat as end-of-file
        }
        System.exit(0); // runs the shutdown hook
    }

    private static void shutdown() {
        synchronized (LOCK) {
            if (stopped) {
                return;
            }
            stopped = true;
            closeQuietly();
        }
    }

    private static void closeQuietly() {
        if (neo4j != null) {
            try {
                neo4j.close();
            } catch (Throwable e) {
                e.printStackTrace(System.err);
            }
            neo4j = null;
        }
        if (workDir != null) {
            try {
                deleteRecursively(workDir);
            } catch (IOException e) {
                System.err.println("Launcher: could not delete " + workDir + ": " + e);
            }
            workDir = null;
        }
        System.err.println("Launcher: stopped");
        System.err.flush();
    }

    private static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
