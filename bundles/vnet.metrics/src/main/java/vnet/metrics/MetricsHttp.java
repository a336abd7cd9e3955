package vnet.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/** {@code GET /metrics}: the Prometheus text, from the JDK's own HTTP server (no servlet container needed). */
final class MetricsHttp implements AutoCloseable {
    private final HttpServer server;
    private final Supplier<String> text;

    private MetricsHttp(HttpServer server, Supplier<String> text) {
        this.server = server;
        this.text = text;
    }

    static MetricsHttp start(String address, int port, Supplier<String> text) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(address, port), 8);
        MetricsHttp h = new MetricsHttp(s, text);
        s.createContext("/metrics", h::serve);
        s.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vnet-metrics-http");
            t.setDaemon(true);
            return t;
        }));
        s.start();
        return h;
    }

    String url() {
        return "http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort() + "/metrics";
    }

    private void serve(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = text.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", Prometheus.CONTENT_TYPE);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
