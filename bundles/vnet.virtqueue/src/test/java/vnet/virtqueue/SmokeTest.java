package vnet.virtqueue;

import static org.junit.jupiter.api.Assertions.assertTrue;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void guestMemoryIsAnInterface() {
        assertTrue(GuestMemory.class.isInterface());
    }
}
