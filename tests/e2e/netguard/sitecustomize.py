"""Loaded at interpreter start when this folder is on PYTHONPATH (tests only): every
connection, datagram or name lookup to anything but this computer is refused and
written, one JSON line each, to $POSTURE_NETGUARD_LOG."""

from __future__ import annotations

import ipaddress
import json
import os
import socket

_LOG = os.environ.get("POSTURE_NETGUARD_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "", None}


def _is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def _is_numeric(host) -> bool:
    try:
        ipaddress.ip_address(str(host.decode() if isinstance(host, bytes) else host))
    except ValueError:
        return False
    return True


def _refuse(kind: str, target) -> None:
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"kind": kind, "target": repr(target), "pid": os.getpid()}) + "\n")
    raise ConnectionRefusedError(f"netguard: {kind} to {target!r} refused (tests)")


def _check(sock, address, kind: str) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        _refuse(kind, address)


if _LOG:
    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex
    _sendto = socket.socket.sendto
    _getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        _check(self, address, "connect")
        return _connect(self, address)

    def connect_ex(self, address):
        _check(self, address, "connect")
        return _connect_ex(self, address)

    def sendto(self, data, *args):
        _check(self, args[-1], "sendto")
        return _sendto(self, data, *args)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host) and not _is_numeric(host):  # a numeric address: see connect
            _refuse("lookup", host)
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
    socket.getaddrinfo = getaddrinfo
