package vnet.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class QemuArgsTest {

    @Test
    void vnetListensQemuConnects() {
        assertEquals(List.of("-chardev", "socket,id=vnet-a-chr,path=/tmp/vnet/l/a.sock,reconnect=1",
                        "-netdev", "vhost-user,id=vnet-a,chardev=vnet-a-chr",
                        "-device", "virtio-net-pci,netdev=vnet-a,vectors=0,romfile=,mac=02:00:00:00:00:01"),
                QemuArgs.nic("a", Path.of("/tmp/vnet/l/a.sock"), false, "02:00:00:00:00:01"));
    }

    @Test
    void vnetConnectsQemuListens() {
        List<String> args = QemuArgs.nic("b", Path.of("/tmp/x,y/b.sock"), true, null);
        assertEquals("socket,id=vnet-b-chr,path=/tmp/x,,y/b.sock,server=on,wait=off", args.get(1));
        assertEquals("virtio-net-pci,netdev=vnet-b,vectors=0,romfile=", args.get(5));
    }

    @Test
    void sharedMemoryAsVhostUserNeedsIt() {
        assertEquals("-m 256M -object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem",
                QemuArgs.join(QemuArgs.memory()));
    }

    @Test
    void joinQuotesForAShell() {
        assertEquals("-a 'b c' 'it'\\''s'", QemuArgs.join(List.of("-a", "b c", "it's")));
    }

    @Test
    void namesAreSocketFileNames() {
        assertEquals("a-1_b", Configs.checkName("port", "a-1_b"));
        assertEquals("a.b", Configs.checkName("port", "a.b")); // as the components accept it
        for (String bad : new String[] {"", "-a", ".a", "..", "a/b", "a b", "x".repeat(65)}) {
            assertThrows(IllegalArgumentException.class, () -> Configs.checkName("port", bad), bad);
        }
    }
}
