"""Hosts on one machine for tests: Linux network namespaces joined by veth pairs (iproute2).

The test's own (root) namespace is the control host: a bridge there carries the private
/24 the hosts share, and every other host is a namespace with one veth pair into that
bridge. A host's processes run under ``ip netns exec <namespace>`` (``Host.command_prefix``):
the same filesystem, another network, so what a host may reach is what its network says.
Cutting a host's link (``Host.cut``) takes its veth down on the bridge side: nothing is
refused, packets just stop, as when a cable is pulled or a switch port dies.

Needs root and ``ip``; ``unavailable()`` says why not where they are missing.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field

# 10.0.0.0/8 minus what this machine already routes: a random /24 of it per network, so
# parallel test runs (each with its own names) do not collide.
PRIVATE_RANGE = ipaddress.IPv4Network("10.0.0.0/8")
SUBNET_TRIES = 20


class HostsError(RuntimeError):
    pass


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None when they can (a probe namespace)."""
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"slprobe{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


def ip(*args: str) -> None:
    """Run ``ip ARGS``; raises HostsError with its message when it fails."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise HostsError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def routed_networks() -> list[ipaddress.IPv4Network]:
    """The IPv4 networks of this namespace's addresses and routes."""
    out = subprocess.run(
        ["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True
    )
    networks = []
    for line in out.stdout.splitlines():
        first = line.split()[0] if line.split() else ""
        if first in ("local", "broadcast"):
            first = line.split()[1]
        try:
            network = ipaddress.IPv4Network(first, strict=False)
        except ValueError:  # "default", "unreachable", ...
            continue
        if network.prefixlen > 0:
            networks.append(network)
    return networks


def free_subnet(taken: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """A random /24 of PRIVATE_RANGE overlapping none of ``taken``."""
    for _ in range(SUBNET_TRIES):
        base = int(PRIVATE_RANGE.network_address) + (secrets.randbelow(2**16) << 8)
        subnet = ipaddress.IPv4Network((base, 24))
        if not any(subnet.overlaps(t) for t in taken):
            return subnet
    raise HostsError(f"no free /24 in {PRIVATE_RANGE} after {SUBNET_TRIES} tries")


@dataclass
class Host:
    """A host: its namespace, its address, and the bridge-side end of its veth pair."""

    name: str
    namespace: str
    address: str
    link: str  # the veth end on the bridge: down is a cut cable

    @property
    def command_prefix(self) -> tuple[str, ...]:
        """Put before a command to run it on this host."""
        return ("ip", "netns", "exec", self.namespace)

    def cut(self) -> None:
        ip("link", "set", self.link, "down")

    def restore(self) -> None:
        ip("link", "set", self.link, "up")


@dataclass
class HostNetwork:
    """A bridge in this namespace (the control host, at ``.1``) and hosts joined to it."""

    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    subnet: ipaddress.IPv4Network | None = None
    hosts: list[Host] = field(default_factory=list)

    @property
    def bridge(self) -> str:
        return f"sl{self.tag}br"  # interface names are at most 15 characters

    @property
    def control_address(self) -> str:
        assert self.subnet is not None
        return str(self.subnet.network_address + 1)

    def start(self) -> HostNetwork:
        self.subnet = free_subnet(routed_networks())
        try:
            ip("link", "add", self.bridge, "type", "bridge")
            ip("addr", "add", f"{self.control_address}/24", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")
        except HostsError:
            self.close()
            raise
        return self

    def add_host(self, name: str) -> Host:
        """A new namespace with one veth into the bridge, at the next address."""
        assert self.subnet is not None
        host = Host(
            name=name,
            namespace=f"sl{self.tag}-{name}",
            address=str(self.subnet.network_address + 2 + len(self.hosts)),
            link=f"sl{self.tag}{name}",
        )
        self.hosts.append(host)  # before it exists, so close() removes what was made
        ip("netns", "add", host.namespace)
        peer = ("peer", "name", "eth0", "netns", host.namespace)
        ip("link", "add", host.link, "type", "veth", *peer)
        ip("link", "set", host.link, "master", self.bridge, "up")
        ip("-n", host.namespace, "addr", "add", f"{host.address}/24", "dev", "eth0")
        ip("-n", host.namespace, "link", "set", "eth0", "up")
        ip("-n", host.namespace, "link", "set", "lo", "up")
        return host

    def close(self) -> None:
        """Delete every namespace and link made; what is already gone is skipped."""
        for host in self.hosts:
            # Deleting the namespace deletes its veth end and with it the peer on the bridge.
            subprocess.run(["ip", "netns", "delete", host.namespace], capture_output=True)
            subprocess.run(["ip", "link", "delete", host.link], capture_output=True)
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)
        self.hosts = []
