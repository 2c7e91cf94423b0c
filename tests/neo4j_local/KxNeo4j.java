// A local Neo4j for kxgraph's tests, benchmarks and development: the real Neo4j 5 Community kernel,
// Cypher runtime and full-text indexes, embedded with its Bolt connector (Neo4j's documented
// "embedded with Bolt" set-up). Started and stopped by tests/neo4j_local/__init__.py.
//
//   java KxNeo4j serve <neo4j.conf> <home>   settings from the file (strict validation: an unknown
//                                            setting refuses to start); the password of the user
//                                            neo4j from the environment variable KX_NEO4J_PASSWORD;
//                                            prints "READY <ms>" once Bolt answers; SIGTERM shuts
//                                            the database down cleanly.
//   java KxNeo4j check <neo4j.conf>          "VALID", or "INVALID <reason>" and exit code 3
import java.nio.file.Path;
import java.util.Map;
import org.neo4j.configuration.Config;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

public final class KxNeo4j {
    private KxNeo4j() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("check")) {
            try {
                Config.newBuilder().fromFile(Path.of(args[1])).build();
            } catch (RuntimeException e) {
                System.out.println("INVALID " + e.getMessage());
                System.exit(3);
            }
            System.out.println("VALID");
            return;
        }
        if (args.length != 3 || !args[0].equals("serve")) {
            System.err.println("usage: KxNeo4j serve <neo4j.conf> <home> | KxNeo4j check <neo4j.conf>");
            System.exit(2);
        }
        String password = System.getenv("KX_NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            System.err.println("KX_NEO4J_PASSWORD must hold the password (8 characters or more)");
            System.exit(2);
        }
        long started = System.nanoTime();
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(Path.of(args[2]))
                .loadPropertiesFromFile(Path.of(args[1]))
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown, "kxgraph-neo4j-shutdown"));
        try {
            setPassword(dbms, password);
        } catch (RuntimeException e) {
            System.out.println("FAILED setting the password: " + e);
            System.out.flush();
            System.exit(1);  // the shutdown hook stops the database
        }
        System.out.println("READY " + (System.nanoTime() - started) / 1_000_000);
        System.out.flush();
        Thread.currentThread().join();
    }

    /** The password of the user neo4j. The system database may still be recovering just after a
     *  crash: try for up to a minute. */
    private static void setPassword(DatabaseManagementService dbms, String password) throws InterruptedException {
        RuntimeException last = null;
        for (int attempt = 0; attempt < 120; attempt++) {
            try {
                dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                        "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
                return;
            } catch (RuntimeException e) {
                if (String.valueOf(e.getMessage()).contains("cannot be the same")) {
                    return;  // a restart on the same data folder: the password is set already
                }
                last = e;
                System.out.println("retrying ALTER USER: " + e.getMessage());
                Thread.sleep(500);
            }
        }
        throw last;
    }
}
