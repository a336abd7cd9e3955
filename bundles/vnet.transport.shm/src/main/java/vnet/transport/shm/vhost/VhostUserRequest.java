package vnet.transport.shm.vhost;

/**
 * Front-end → back-end request codes of the vhost-user protocol (QEMU docs/interop/vhost-user.rst),
 * with the payload each one carries, so that a message's size is checked in one place.
 */
public final class VhostUserRequest {
    private VhostUserRequest() {
    }

    public static final int GET_FEATURES = 1;
    public static final int SET_FEATURES = 2;
    public static final int SET_OWNER = 3;
    public static final int RESET_OWNER = 4;
    public static final int SET_MEM_TABLE = 5;
    public static final int SET_LOG_BASE = 6;
    public static final int SET_LOG_FD = 7;
    public static final int SET_VRING_NUM = 8;
    public static final int SET_VRING_ADDR = 9;
    public static final int SET_VRING_BASE = 10;
    public static final int GET_VRING_BASE = 11;
    public static final int SET_VRING_KICK = 12;
    public static final int SET_VRING_CALL = 13;
    public static final int SET_VRING_ERR = 14;
    public static final int GET_PROTOCOL_FEATURES = 15;
    public static final int SET_PROTOCOL_FEATURES = 16;
    public static final int GET_QUEUE_NUM = 17;
    public static final int SET_VRING_ENABLE = 18;
    public static final int SEND_RARP = 19;
    public static final int NET_SET_MTU = 20;
    public static final int SET_BACKEND_REQ_FD = 21;
    public static final int IOTLB_MSG = 22;
    public static final int SET_VRING_ENDIAN = 23;
    public static final int GET_CONFIG = 24;
    public static final int SET_CONFIG = 25;
    public static final int GET_INFLIGHT_FD = 31;
    public static final int SET_INFLIGHT_FD = 32;
    public static final int RESET_DEVICE = 34;
    public static final int VRING_KICK = 35;
    public static final int GET_MAX_MEM_SLOTS = 36;
    public static final int ADD_MEM_REG = 37;
    public static final int REM_MEM_REG = 38;
    public static final int SET_STATUS = 39;
    public static final int GET_STATUS = 40;

    /** Payload kinds; the size check of a message follows from its kind. */
    public enum Payload {
        NONE(0), U64(8), VRING_STATE(8), VRING_ADDR(40), MEM_TABLE(-1), MEM_REGION(40), CONFIG(-1), LOG(16), ANY(-1);

        /** Exact payload size, or -1 where the size depends on the content. */
        public final int size;

        Payload(int size) {
            this.size = size;
        }
    }

    /** The payload kind of a request, or null for a request this back-end does not know. */
    public static Payload payloadOf(int request) {
        switch (request) {
            case SET_OWNER: case RESET_OWNER: case GET_FEATURES: case GET_PROTOCOL_FEATURES: case GET_QUEUE_NUM:
            case GET_MAX_MEM_SLOTS: case GET_STATUS: case RESET_DEVICE:
                return Payload.NONE;
            case SET_FEATURES: case SET_PROTOCOL_FEATURES: case SET_VRING_KICK: case SET_VRING_CALL:
            case SET_VRING_ERR: case SEND_RARP: case NET_SET_MTU: case SET_STATUS: case SET_LOG_FD:
            case SET_BACKEND_REQ_FD:
                return Payload.U64;
            case SET_VRING_NUM: case SET_VRING_BASE: case GET_VRING_BASE: case SET_VRING_ENABLE:
            case SET_VRING_ENDIAN: case VRING_KICK:
                return Payload.VRING_STATE;
            case SET_VRING_ADDR:
                return Payload.VRING_ADDR;
            case SET_MEM_TABLE:
                return Payload.MEM_TABLE;
            case ADD_MEM_REG: case REM_MEM_REG:
                return Payload.MEM_REGION;
            case GET_CONFIG: case SET_CONFIG:
                return Payload.CONFIG;
            case SET_LOG_BASE:
                return Payload.LOG;
            case IOTLB_MSG: case GET_INFLIGHT_FD: case SET_INFLIGHT_FD:
                return Payload.ANY;
            default:
                return null;
        }
    }

    /** The protocol's name of a request, for logs and errors. */
    public static String nameOf(int request) {
        for (var f : VhostUserRequest.class.getFields()) {
            try {
                if (f.getType() == int.class && f.getInt(null) == request) {
                    return "VHOST_USER_" + f.getName();
                }
            } catch (IllegalAccessException e) {
                break;
            }
        }
        return "request " + request;
    }
}
