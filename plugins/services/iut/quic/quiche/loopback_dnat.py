"""Runs a program that binds a fixed loopback address (quiche's example servers: 127.0.0.1:4433)
so that it is reachable at the service's own address and port, inside the service's own
network namespace: route_localnet on, and DNAT rules for datagrams arriving (PREROUTING) and
sent from the namespace itself (OUTPUT, the readiness probe). Then it execs the program, so the
program is the process panther stops. The rules die with the namespace.

Usage: loopback_dnat.py HOST PORT LOOPBACK_PORT -- PROGRAM ARGS...
"""

import os
import subprocess
import sys


def main():
    if len(sys.argv) < 6 or sys.argv[4] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    host, port, lport = sys.argv[1], sys.argv[2], sys.argv[3]
    if host.startswith("127.") or host in ("localhost", "::1"):
        print(f"loopback_dnat: {host} is a loopback address: this needs a namespace of its own "
              "(network environment netns)", file=sys.stderr)
        return 2
    with open("/proc/sys/net/ipv4/conf/all/route_localnet", "w") as f:
        f.write("1")
    for chain in ("PREROUTING", "OUTPUT"):
        subprocess.run(
            ["iptables", "-t", "nat", "-A", chain, "-p", "udp", "-d", host, "--dport", port,
             "-j", "DNAT", "--to-destination", f"127.0.0.1:{lport}"],
            check=True,
        )
    prog = sys.argv[5:]
    sys.stdout.flush()
    os.execvp(prog[0], prog)


if __name__ == "__main__":
    sys.exit(main())
