package vnet.metrics;

import vnet.peer.PeerStats;
import vnet.peer.PeerStatus;
import vnet.switching.Fabric;
import vnet.switching.FabricPort;
import vnet.switching.PortStats;

/** The MXBeans: each attribute read asks the running object (nothing is sampled or copied on the data path). */
final class Beans {
    private Beans() {
    }

    static final class Port implements PortMXBean {
        private final Fabric fabric;
        private final String name;

        Port(Fabric fabric, String name) {
            this.fabric = fabric;
            this.name = name;
        }

        private PortStats s() {
            try {
                return fabric.stats(name);
            } catch (IllegalArgumentException | IllegalStateException gone) {
                return new PortStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            }
        }

        @Override
        public String getLink() {
            return fabric.name();
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean isUp() {
            for (FabricPort p : fabric.ports()) {
                if (p.name().equals(name)) {
                    return p.running();
                }
            }
            return false;
        }

        @Override
        public long getTxFrames() {
            return s().txFrames();
        }

        @Override
        public long getTxBytes() {
            return s().txBytes();
        }

        @Override
        public long getRxFrames() {
            return s().rxFrames();
        }

        @Override
        public long getRxBytes() {
            return s().rxBytes();
        }

        @Override
        public long getTxDropsVlan() {
            return s().dropsVlan();
        }

        @Override
        public long getTxDropsSpoofed() {
            return s().dropsSpoofed();
        }

        @Override
        public long getTxDropsMonitor() {
            return s().dropsMonitor();
        }

        @Override
        public long getTxDropsNoPeer() {
            return s().dropsNoPeer();
        }

        @Override
        public long getRxDropsNoRxBuffer() {
            return s().dropsNoRxBuffer();
        }

        @Override
        public long getRxDropsTooBig() {
            return s().dropsTooBig();
        }

        @Override
        public long getRxDropsOffload() {
            return s().dropsOffload();
        }

        @Override
        public long getRxDropsQueueError() {
            return s().dropsQueueError();
        }
    }

    static final class FabricBean implements FabricMXBean {
        private final Fabric f;

        FabricBean(Fabric f) {
            this.f = f;
        }

        @Override
        public String getName() {
            return f.name();
        }

        @Override
        public String getKind() {
            return f.kind();
        }

        @Override
        public int getPorts() {
            return f.ports().size();
        }

        @Override
        public int getPortsUp() {
            return (int) f.ports().stream().filter(FabricPort::running).count();
        }

        @Override
        public long getPollMicros() {
            return f.pollMicros();
        }

        @Override
        public int getMaxQueueSize() {
            return f.maxQueueSize();
        }

        @Override
        public int getMacTableEntries() {
            return Fabric.KIND_SWITCH.equals(f.kind()) ? f.macTable().size() : 0;
        }
    }

    static final class Peer implements PeerMXBean {
        private final PeerStatus p;

        Peer(PeerStatus p) {
            this.p = p;
        }

        private PeerStats s() {
            return p.stats();
        }

        @Override
        public String getName() {
            return p.interfaceName();
        }

        @Override
        public String getOptions() {
            return p.options().toOptionString();
        }

        @Override
        public boolean isConnected() {
            return p.isConnected();
        }

        @Override
        public long getTapFramesRead() {
            return s().tapFramesRead();
        }

        @Override
        public long getToVirtio() {
            return s().toVirtio();
        }

        @Override
        public long getToVirtioDropped() {
            return s().toVirtioDropped();
        }

        @Override
        public long getVirtioFramesTaken() {
            return s().virtioFramesTaken();
        }

        @Override
        public long getToTap() {
            return s().toTap();
        }

        @Override
        public long getToTapDropped() {
            return s().toTapDropped();
        }

        @Override
        public long getChecksumsCompleted() {
            return s().checksumsCompleted();
        }
    }
}
