package vnet.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FstatTest {

    @Test
    void sameMemfdSameIdentityOtherMemfdOther() throws Exception {
        try (Fd a = Memfd.create("a", 12345); Fd aAgain = a.dup(); Fd b = Memfd.create("b", 12345)) {
            Fstat sa = Fstat.of(a);
            Fstat sa2 = Fstat.of(aAgain.fd());
            Fstat sb = Fstat.of(b);
            assertEquals(sa.dev(), sa2.dev());
            assertEquals(sa.ino(), sa2.ino());
            assertTrue(sa.sameFile(sa2));
            assertFalse(sa.sameFile(sb));
            assertNotEquals(sa.ino(), sb.ino());
            assertEquals(12345, sa.size());
            assertTrue(sa.isRegularFile());
        }
    }

    @Test
    void agreesWithJavaOnARegularFile(@TempDir Path dir) throws Exception {
        Path file = java.nio.file.Files.write(dir.resolve("f"), new byte[777]);
        Object javaInode = java.nio.file.Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        try (Fd fd = Files.open(file, Files.O_RDONLY)) {
            Fstat stat = Fstat.of(fd);
            assertEquals(777, stat.size());
            // UnixFileKey prints "(dev=…,ino=…)" in hex on OpenJDK.
            String key = String.valueOf(javaInode);
            assertTrue(key.contains("ino=" + stat.ino()) || key.contains("ino=" + Long.toHexString(stat.ino())), key + " vs " + stat);
        }
    }

    @Test
    void socketsAreSockets() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket a = pair[0]; UnixSocket b = pair[1]) {
            assertEquals(Fstat.S_IFSOCK, Fstat.of(a.fd()).mode() & Fstat.S_IFMT);
        }
    }

    @Test
    void badDescriptorIsEbadf() {
        LinuxException e = assertThrows(LinuxException.class, () -> Fstat.of(987_654));
        assertEquals("EBADF", e.errnoName());
        assertEquals("fstat", e.call());
    }
}
