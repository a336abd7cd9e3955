/** The Felix runtime's console, exit codes, shutdown and control socket; private to the runtime. */
package vnet.console;
