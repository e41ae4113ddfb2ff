"""A minimal keep-alive HTTP/1.1 client for the open-loop generator.

httpx costs a few hundred microseconds of client CPU per request; at 1,000 requests/s on
a 2-core machine shared with the server that cost shows up as server latency. This
client writes pre-built request bytes on pooled connections and reads the status line,
the headers and a Content-Length body: enough for the JSON answers of our own services,
and nothing else (no chunked bodies, no redirects, no TLS).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    body: bytes


def build_post(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Pool:
    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self._opened = 0

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._idle.empty() and self._opened < self.size:
            self._opened += 1
            try:
                return await asyncio.open_connection(self.host, self.port)
            except OSError:
                self._opened -= 1
                raise
        return await self._idle.get()

    async def open(self) -> None:
        """Open every connection now, as a long-running client's keep-alive pool would
        have them: the cost of a burst of connects is not what a latency figure is about."""
        while self._opened < self.size:
            self._opened += 1
            self._idle.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def request(self, raw: bytes, timeout: float) -> Reply:
        reader, writer = await self._connection()
        try:
            writer.write(raw)
            reply = await asyncio.wait_for(_read_reply(reader), timeout)
        except BaseException:
            self._opened -= 1
            writer.close()
            raise
        self._idle.put_nowait((reader, writer))
        return reply

    async def close(self) -> None:
        while not self._idle.empty():
            _reader, writer = self._idle.get_nowait()
            writer.close()


async def _read_reply(reader: asyncio.StreamReader) -> Reply:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return Reply(status, body)
