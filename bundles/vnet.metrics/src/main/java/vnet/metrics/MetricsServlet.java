package vnet.metrics;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import vnet.peer.PeerStatus;
import vnet.switching.Fabric;

/**
 * {@code GET /metrics}: the {@link Prometheus} text, as a servlet for the OSGi HTTP Whiteboard (Felix HTTP Jetty in
 * the runtime, pax-web in Karaf). The port and address are the HTTP service's, not vnet's.
 *
 * <p>A component of its own, apart from the JMX one, so that vnet.metrics runs without any HTTP: its servlet
 * packages are an optional import, and without a whiteboard nothing ever asks SCR for this service, so this
 * class is never loaded. The whiteboard property is written out (not the {@code @HttpWhiteboardServletPattern}
 * annotation) because that annotation would make the whole bundle require an HTTP whiteboard.
 */
@Component(service = Servlet.class, property = {
        "osgi.http.whiteboard.servlet.pattern=/metrics",
        "osgi.http.whiteboard.servlet.name=vnet-metrics"})
public final class MetricsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile List<Fabric> fabrics;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile List<PeerStatus> peers;

    /** GET (and, by HttpServlet, HEAD); any other method is HttpServlet's 405. */
    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        byte[] body = Prometheus.render(VnetMetrics.list(fabrics), VnetMetrics.list(peers)).getBytes(StandardCharsets.UTF_8);
        response.setContentType(Prometheus.CONTENT_TYPE);
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}
