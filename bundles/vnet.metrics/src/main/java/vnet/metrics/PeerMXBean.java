package vnet.metrics;

/** A host peer, {@code vnet:type=peer,name=<interface>}: frames between its TAP and its virtio side. */
public interface PeerMXBean {
    String getName();

    String getOptions();

    boolean isConnected();

    long getTapFramesRead();

    long getToVirtio();

    long getToVirtioDropped();

    long getVirtioFramesTaken();

    long getToTap();

    long getToTapDropped();

    long getChecksumsCompleted();
}
