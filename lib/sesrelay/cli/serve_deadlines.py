"""How long `sesrelay serve` waits for a slow client: the deadlines of one connection, and a
socket reader that holds every read to the current one."""

from __future__ import annotations

import io
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


@dataclass(frozen=True)
class Deadlines:
    """How long one connection may take, in seconds. A socket timeout alone restarts at every
    byte received, so a client trickling its request could hold a thread for as long as it liked."""

    head: float = 10.0  # request line + headers: from accept, or a later request's first byte
    body: float = 60.0  # the body, from the end of the headers
    idle: float = 60.0  # a keep-alive connection waiting for its next request
    write: float = 60.0  # writing one answer, to a client that may not read it


class DeadlineReader(io.RawIOBase):
    """The connection's socket as a raw stream whose every recv ends by one deadline: before
    each, the socket timeout is set to the time left. Past it, a read raises TimeoutError."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        super().__init__()
        self._sock = sock
        self.allow(seconds)

    def allow(self, seconds: float) -> None:
        """The reads from now on must all be done within `seconds`."""
        self.deadline = time.monotonic() + seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the read deadline passed")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)
