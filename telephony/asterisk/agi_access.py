"""Who may talk FastAGI to OneCall: only the Asterisk it drives.

A FastAGI connection carries no credentials (Asterisk sends none), so whoever reaches the
port could run the scripts as if they were Asterisk: start calls, accept reservations.
The server therefore listens on loopback by default and accepts connections only from the
configured addresses (`ONECALL_AGI_ALLOW`, see `onecall.settings`), refusing the others
before reading a byte. An agent script is further checked against the legs OneCall
itself originated (`FastAgiScripts.agent`).
"""
from __future__ import annotations

import ipaddress
from typing import Iterable


class AgiPeers:
    def __init__(self, networks: Iterable[str]) -> None:
        self._networks = tuple(ipaddress.ip_network(network, strict=False) for network in networks)

    def allows(self, peername) -> bool:
        """peername: what a socket's getpeername() gives ((host, port, ...)), or None."""
        if not peername:
            return False
        try:
            address = ipaddress.ip_address(str(peername[0]).split("%")[0])
        except ValueError:
            return False
        if getattr(address, "ipv4_mapped", None):  # ::ffff:10.0.0.5 on a dual-stack socket
            address = address.ipv4_mapped
        return any(address in network for network in self._networks)
