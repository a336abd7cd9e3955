package vnet.shell;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.List;

import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import vnet.switching.RuntimeDir;
import vnet.transport.shm.Names;

/**
 * The vnet configurations in ConfigAdmin, found by their {@code name} (and {@code link}) properties, whatever
 * created them: these commands, {@code etc/*.cfg} files or Karaf's {@code config:} commands.
 */
final class Configs {
    static final String P2P = "vnet.p2p";
    static final String SWITCH = "vnet.switch";
    static final String PORT = "vnet.port";
    static final String PEER = "vnet.peer";

    private final ConfigurationAdmin cm;

    Configs(ConfigurationAdmin cm) {
        this.cm = cm;
    }

    /** Refuses a name that the components would refuse: {@link Names}' rule, the one they check. */
    static String checkName(String what, String name) {
        if (!Names.isValid(name)) {
            throw new IllegalArgumentException(what + " name \"" + name + "\" is not valid (" + Names.RULE + ")");
        }
        return name;
    }

    /** Every configuration of a factory matching {@code filter} (an LDAP filter on its properties, or null). */
    List<Configuration> list(String factoryPid, String filter) {
        String f = "(service.factoryPid=" + factoryPid + ")";
        if (filter != null) {
            f = "(&" + f + filter + ")";
        }
        try {
            Configuration[] found = cm.listConfigurations(f);
            List<Configuration> all = found == null ? new ArrayList<>() : new ArrayList<>(Arrays.asList(found));
            all.sort(Comparator.comparing(c -> String.valueOf(get(c, "name"))));
            return all;
        } catch (IOException | InvalidSyntaxException e) {
            throw new IllegalStateException("cannot read the configurations: " + e.getMessage(), e);
        }
    }

    /** The p2p link or switch called {@code name}, or null. */
    Configuration fabric(String name) {
        for (String pid : List.of(P2P, SWITCH)) {
            List<Configuration> l = list(pid, "(name=" + name + ")");
            if (!l.isEmpty()) {
                return l.get(0);
            }
        }
        return null;
    }

    /** The p2p link or switch called {@code name}; else the error everyone gets. */
    Configuration requireFabric(String name) {
        Configuration c = fabric(name);
        if (c == null) {
            throw new IllegalArgumentException("no p2p link or switch \"" + name + "\"" + known());
        }
        return c;
    }

    private String known() {
        List<String> names = new ArrayList<>();
        for (Configuration c : fabrics()) {
            names.add(String.valueOf(get(c, "name")));
        }
        return names.isEmpty() ? " (there are none: create one with vnet:create p2p <name>)" : " (there are: "
                + String.join(", ", names) + ")";
    }

    /** Every p2p link and switch, p2p links first. */
    List<Configuration> fabrics() {
        List<Configuration> all = list(P2P, null);
        all.addAll(list(SWITCH, null));
        return all;
    }

    List<Configuration> ports(String link) {
        return list(PORT, "(link=" + link + ")");
    }

    Configuration port(String link, String name) {
        List<Configuration> l = list(PORT, "(&(link=" + link + ")(name=" + name + "))");
        return l.isEmpty() ? null : l.get(0);
    }

    List<Configuration> peers() {
        return list(PEER, null);
    }

    /** Creates a named factory configuration ({@code factoryPid~name}) bound to no bundle, so DS can use it. */
    Configuration create(String factoryPid, String name, Dictionary<String, Object> properties) {
        try {
            Configuration c = cm.getFactoryConfiguration(factoryPid, name, null);
            if (c.getProperties() != null) {
                throw new IllegalArgumentException("configuration " + c.getPid() + " exists already");
            }
            c.update(properties);
            return c;
        } catch (IOException e) {
            throw new IllegalStateException("cannot store configuration " + factoryPid + "~" + name + ": "
                    + e.getMessage(), e);
        }
    }

    static void delete(Configuration c) {
        try {
            c.delete();
        } catch (IOException e) {
            throw new IllegalStateException("cannot delete configuration " + c.getPid() + ": " + e.getMessage(), e);
        } catch (IllegalStateException gone) {
            // deleted meanwhile
        }
    }

    /** A property of a configuration, or null (also when the configuration was deleted meanwhile). */
    static Object get(Configuration c, String key) {
        try {
            Dictionary<String, Object> p = c.getProperties();
            return p == null ? null : p.get(key);
        } catch (IllegalStateException deleted) {
            return null;
        }
    }

    static String string(Configuration c, String key, String fallback) {
        Object v = get(c, key);
        return v == null || v.toString().isBlank() ? fallback : v.toString();
    }

    /** An integer property (a number or its text), else {@code fallback}. */
    static int integer(Configuration c, String key, int fallback) {
        Object v = get(c, key);
        if (v instanceof Number n) {
            return n.intValue();
        }
        try {
            return v == null ? fallback : Integer.parseInt(v.toString().trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    static boolean bool(Configuration c, String key) {
        Object v = get(c, key);
        return v instanceof Boolean b ? b : v != null && Boolean.parseBoolean(v.toString());
    }

    /**
     * Where a port's socket is: its {@code socket} property, else {@code <runtime.dir>/<link>/<name>.sock} with the
     * link's {@code runtime.dir}, else the framework's runtime folder ({@link RuntimeDir}).
     */
    static Path socketOf(Configuration port, Configuration fabric, String frameworkRuntimeDir) {
        String socket = string(port, "socket", null);
        if (socket != null) {
            return Path.of(socket);
        }
        String link = string(port, "link", "");
        String name = string(port, "name", "");
        return runtimeDir(fabric, frameworkRuntimeDir).resolve(link).resolve(name + ".sock");
    }

    static Path runtimeDir(Configuration fabric, String frameworkRuntimeDir) {
        String dir = fabric == null ? null : string(fabric, "runtime.dir", null);
        if (dir == null) {
            return RuntimeDir.of(frameworkRuntimeDir);
        }
        return Path.of(dir);
    }
}
