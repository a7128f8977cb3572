"""uvicorn's httptools protocol with the two limits on a request's head that
it lacks: without them a 64 MB header was parsed for seconds on the event
loop (stalling every other client), and a client that sends nothing, or
trickles its headers, held its connection forever.

- The head (request line and headers) may take at most
  `h11_max_incomplete_event_size` bytes, the option uvicorn's h11 protocol
  uses for the same limit: more is answered 431 and the connection closed.
- The head must arrive within `timeout_keep_alive` seconds of the
  connection, or of its first byte on a kept-alive connection: 408 and
  closed otherwise. (Idle kept-alive connections are uvicorn's own
  business, with the same timeout.)
"""

import asyncio

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

DEFAULT_MAX_HEAD_BYTES = 64 * 1024
LINGER_SECONDS = 2.0  # after a refusal, for the client to read it


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_head_bytes = (
            config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD_BYTES
        )
        self.head_bytes = 0
        self.reading_head = True
        self.head_deadline: asyncio.TimerHandle | None = None
        self.refused = False
        self.heads_completed = 0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._expect_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return  # read and dropped until closed, so the answer is not reset
        heads_before = self.heads_completed
        super().data_received(data)
        # Counted after parsing, and only for a chunk that completed no head:
        # one that did may carry a large body with it, which is not the head's.
        if self.reading_head and self.heads_completed == heads_before:
            self.head_bytes += len(data)
            if self.head_bytes > self.max_head_bytes:
                self._refuse(431, "Request header fields too large.")

    # Parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_head, self.head_bytes = True, 0
        self._expect_head()

    def on_headers_complete(self) -> None:
        self.reading_head, self.head_bytes = False, 0
        self.heads_completed += 1
        self._cancel_deadline()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # Between requests until the next one's first byte (on_message_begin):
        # the rest of this chunk was the body's end, not a head.
        self.reading_head = False

    def _expect_head(self) -> None:
        if self.head_deadline is None:
            self.head_deadline = self.loop.call_later(
                self.timeout_keep_alive,
                self._refuse,
                408,
                "Request head not received in time.",
            )

    def _cancel_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` with a plain-text message and close the connection.

        Closing at once while the client still sends would reset the
        connection, and the client would never read the answer: the write
        side is closed first, what still arrives is dropped, and the
        connection is closed after LINGER_SECONDS.
        """
        self._cancel_deadline()
        if self.refused or self.transport.is_closing():
            return
        self.refused = True
        body = message.encode("ascii")
        head = [
            STATUS_LINE[status],
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
        self.logger.info("%d: %s", status, message)
