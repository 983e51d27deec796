import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.util.List;

/**
 * mongo-java-server (memory backend) on 127.0.0.1:PORT. Each update applies its filter and its
 * write atomically, as MongoDB does. It answers as MongoDB 5.0 (wire version 13: the library's
 * ServerVersion.MONGO_5_0 says 8, which current drivers refuse), and buildInfo adds
 * `mongoJavaServerVersion`, so that clients can say which server they talk to. Runs until SIGTERM.
 * Usage: AtomicMongoServer PORT | AtomicMongoServer --version
 */
public final class AtomicMongoServer {
  public static void main(String[] args) {
    String version = System.getProperty("zdm.mongoJavaServer.version", "unknown");
    if (args.length == 1 && args[0].equals("--version")) {
      System.out.println("mongo-java-server " + version);
      return;
    }
    if (args.length != 1) throw new IllegalArgumentException("usage: AtomicMongoServer PORT | AtomicMongoServer --version");
    MemoryBackend backend = new MemoryBackend() {
      @Override
      public Document handleCommand(Channel channel, String database, String command, Document query) {
        Document response = super.handleCommand(channel, database, command, query);
        if (command.equalsIgnoreCase("buildinfo")) response.put("mongoJavaServerVersion", version);
        return response;
      }
    };
    MongoVersion mongo50 = new MongoVersion() {
      public List<Integer> getVersionArray() { return List.of(5, 0, 0); }
      public int getWireVersion() { return 13; }
    };
    MongoServer server = new MongoServer(backend.version(mongo50));
    server.bind("127.0.0.1", Integer.parseInt(args[0]));
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    System.out.println("mongo-java-server " + version + " listening on " + server.getLocalAddress());
  }
}
