package kunlun.searchengine;

import java.lang.reflect.Constructor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.MockNode;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.netty4.Netty4Plugin;

/** Starts one Elasticsearch node on 127.0.0.1. Usage: NodeLauncher HTTP_PORT HOME_DIR */
public final class NodeLauncher {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: NodeLauncher HTTP_PORT HOME_DIR");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        Path home = Path.of(args[1]).toAbsolutePath();
        Files.createDirectories(home.resolve("config"));

        // What the test framework's static set-up would do: register Elasticsearch's log4j plugins.
        LogConfigurator.loadLog4jPlugins();
        LogConfigurator.configureESLogging();

        Settings settings = Settings.builder()
            .put("cluster.name", "kunlun-dev")
            .put("node.name", "kunlun-dev-1")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("transport.port", port + 100)
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            .put("discovery.type", "single-node")
            .build();
        Environment environment =
            InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "kunlun-dev-1");

        // MockNode's public constructors pull in the randomized test runner (which refuses to run
        // as root); its (Environment, plugins, boolean) constructor starts a plain node.
        Constructor<MockNode> constructor =
            MockNode.class.getDeclaredConstructor(Environment.class, Collection.class, boolean.class);
        constructor.setAccessible(true);
        Collection<Class<? extends Plugin>> plugins = List.of(Netty4Plugin.class, EnglishAnalysisPlugin.class);
        Node node = constructor.newInstance(environment, plugins, true);
        node.start();
        System.out.printf("kunlun: node started on http://127.0.0.1:%d%n", port);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
            stopped.countDown();
        }));
        stopped.await();
    }
}
