"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, in a thread, keeping every message.

`Inbox(answer=...)` lets a test choose the reply to each DATA (a 451 to make the sender
retry, a 550 to refuse for good) or act at that moment, e.g. kill the sending process after
the server has the message and before the client reads the 250."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message

from aiosmtpd.controller import Controller

__all__ = ["Inbox", "smtp_server"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(
        self, answer: Callable[[Message, int], str | None] | None = None, delay: float = 0.0
    ) -> None:
        """`answer(message, n)` for the n-th DATA: a reply such as "451 ...", or None for 250;
        `delay`: seconds the server takes over each message (to make senders overlap)."""
        self.answer = answer
        self.delay = delay
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []
        self.attempts = 0
        """Every DATA received, refused ones included."""
        self.host, self.port = "127.0.0.1", 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self._lock:
            self.attempts += 1
            count = self.attempts
        if self.delay:
            await asyncio.sleep(self.delay)
        reply = self.answer(message, count) if self.answer is not None else None
        if reply is None or reply.startswith("250"):  # else refused: the server did not take it
            with self._lock:
                self.messages.append(message)
                self.recipients.append(list(envelope.rcpt_tos))
        return reply or "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self._lock:
            return [m["Message-ID"] for m in self.messages]


@contextmanager
def smtp_server(inbox: Inbox) -> Iterator[Inbox]:
    inbox.port = _free_port()
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
