package vnet.transport.shm.vhost;

import static vnet.transport.shm.vhost.VhostUserFrontend.RX;
import static vnet.transport.shm.vhost.VhostUserFrontend.TX;
import static vnet.transport.shm.vhost.VhostUserRequest.GET_FEATURES;
import static vnet.transport.shm.vhost.VhostUserRequest.GET_PROTOCOL_FEATURES;
import static vnet.transport.shm.vhost.VhostUserRequest.GET_QUEUE_NUM;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_FEATURES;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_OWNER;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_PROTOCOL_FEATURES;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_BASE;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_CALL;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_ENABLE;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_KICK;
import static vnet.transport.shm.vhost.VhostUserRequest.SET_VRING_NUM;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

import vnet.virtio.net.Features;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DriverQueue;
import vnet.virtqueue.RingLayout;

/**
 * The front-end's set-up message sequence, in two steps around the memory allocation (whose layout depends on the
 * negotiated features): {@link #negotiate} (features, protocol features, owner, queue count) and {@link #startQueues}
 * (memory table, both vrings, their eventfds, enabling them, the first kick).
 */
final class FrontendNegotiation {
    private static final Logger LOG = System.getLogger(VhostUserFrontend.class.getName());

    /**
     * What the back-end offered and what both sides agreed on.
     *
     * @param offeredFeatures   GET_FEATURES
     * @param features          SET_FEATURES (with VHOST_USER_F_PROTOCOL_FEATURES when offered)
     * @param protocolFeatures  SET_PROTOCOL_FEATURES
     * @param backendQueuePairs GET_QUEUE_NUM, 1 without the MQ protocol feature
     * @param headerSize        the virtio_net_hdr size the features give: 10 or 12 bytes
     */
    record Negotiated(long offeredFeatures, long features, long protocolFeatures, int backendQueuePairs, int headerSize) {
    }

    private FrontendNegotiation() {
    }

    /** Agrees on features and protocol features and takes ownership; checks the required features are offered. */
    static Negotiated negotiate(FrontendChannel channel, VhostUserFrontend.Options options) throws IOException {
        long timeout = Math.max(1, options.timeout().toMillis());
        channel.setTimeouts(timeout, timeout);

        long offered = channel.requestU64(GET_FEATURES);
        long protocol = 0;
        if ((offered & VhostUserProtocol.F_PROTOCOL_FEATURES) != 0) {
            protocol = channel.requestU64(GET_PROTOCOL_FEATURES) & VhostUserFrontend.PROTOCOL_FEATURES;
            channel.sendU64(SET_PROTOCOL_FEATURES, protocol);
            channel.useReplyAck((protocol & (1L << VhostUserProtocol.PROTOCOL_F_REPLY_ACK)) != 0);
        }
        channel.sendNone(SET_OWNER);
        int queuePairs = 1;
        if ((protocol & (1L << VhostUserProtocol.PROTOCOL_F_MQ)) != 0) {
            long n = channel.requestU64(GET_QUEUE_NUM);
            if (n < 1 || n > 0x8000) {
                throw new VhostUserException("back-end reports " + Long.toUnsignedString(n) + " queue pairs");
            }
            queuePairs = (int) n;
        }

        long missing = options.requiredFeatures() & ~offered;
        if (missing != 0) {
            throw new VhostUserException("back-end at " + channel.socketPath() + " does not offer required features "
                    + Features.toString(missing) + " (offers " + Features.toString(offered) + ")");
        }
        long accepted = Features.negotiate(offered, options.features() & ~VhostUserProtocol.F_PROTOCOL_FEATURES);
        if ((accepted & Features.VERSION_1) == 0) {
            accepted &= ~(Features.RING_PACKED); // a VIRTIO 1.x feature
        }
        long features = accepted | (offered & VhostUserProtocol.F_PROTOCOL_FEATURES);
        channel.sendU64(SET_FEATURES, features);
        return new Negotiated(offered, features, protocol, queuePairs, VirtioNetHeader.headerSize(features));
    }

    /**
     * Shares {@code memory}, sets up both vrings with {@code dataPath}'s eventfds, posts the receive buffers, enables
     * the rings and kicks the receive queue; the device then runs.
     */
    static void startQueues(FrontendChannel channel, VhostUserFrontend.Options options, Negotiated agreed,
            FrontendMemory memory, FrontendDataPath dataPath) throws IOException {
        channel.sendMemTable(memory.size(), memory.address(), memory.fd());
        long base = memory.address();
        for (int q = RX; q <= TX; q++) {
            DriverQueue dq = q == RX ? memory.driver().rxQueue() : memory.driver().txQueue();
            RingLayout layout = dq.layout();
            channel.sendVringState(SET_VRING_NUM, q, options.queueSize());
            channel.sendVringState(SET_VRING_BASE, q, dq.availIndex());
            channel.sendVringAddr(q, base + layout.descTable(), base + layout.deviceArea(), base + layout.driverArea());
            channel.sendVringFd(SET_VRING_KICK, q, dataPath.kick(q).fd());
            channel.sendVringFd(SET_VRING_CALL, q, dataPath.call(q).fd());
        }
        dataPath.prepare();
        if ((agreed.features() & VhostUserProtocol.F_PROTOCOL_FEATURES) != 0) {
            for (int q = RX; q <= TX; q++) {
                channel.sendVringState(SET_VRING_ENABLE, q, 1);
            }
        }
        dataPath.kickReceiveQueue();
        channel.setReceiveTimeout(0);
        LOG.log(Level.DEBUG, "vhost-user front-end {0}: running, features {1}, protocol features 0x{2}, {3}-byte header",
                channel.socketPath(), Features.toString(agreed.features()), Long.toHexString(agreed.protocolFeatures()),
                agreed.headerSize());
    }
}
