"""Events are identified and written by a process of their own (SQLite and PostgreSQL).

Why a process and not the store's writer thread: measured, a writer thread shares
the GIL with the event loop, and under load each of its many short SQLite calls
waits for the loop to let go, so the collect path ran at a fifth of the speed of
a do-nothing endpoint (docs/benchmarks.md). In its own process the writer has a
core to itself and the loop only encodes and decodes (msgpack, ~10 us an event).

The contract is unchanged: one writer, group commit (every request waiting in the
pipe joins the transaction), and a request is answered only after its commit.

One request never stops the stream (docs/reliability.md): each request is encoded on
its own when it is made, so one that cannot cross the pipe is refused alone
(`Unwritable`, 400); one that the writer cannot store is answered with its own error
(400 for its data, 503 for a fault) while the rest of its group commits; a watchdog
kills a writer that has not answered a frame within the timeout, which fails what it
held with 503. If the writer process dies, waiting requests fail with 503 (the client
retries) and the next request starts a new one. If the server dies, the writer sees
the end of its input, finishes the group it holds and exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import sys
import time
from collections.abc import Callable
from typing import IO

import msgspec

from footfall.enrich.networks import HostingNetworks
from footfall.ids import LinkSigner, VisitorSigner
from footfall.ingest.writer import EventWriter
from footfall.ingest.writer_db import Db, connect_db
from footfall.model import Event
from footfall.runtime import tune_gc

log = logging.getLogger("footfall.writer")

MAX_GROUP = 2000  # requests in one transaction at most
# When to send the requests waiting in the outbox to the writer (no timer): at once when it has
# nothing to do; while it writes a group, everything that arrives meanwhile waits and travels as the
# next frame, sent the moment the reply comes (group commit that grows with the load, and no delay
# when idle). Big requests (batches) may go while one frame is in flight, so the writer finds the
# next group in its pipe instead of waiting for the loop, which is busy decoding the next batch.
BIG_FRAME_EVENTS = 50
MAX_IN_FLIGHT = 2  # frames, for big ones


class WriterGone(RuntimeError):
    """The writer process ended before answering (503: nothing was stored, send again)."""


class Unwritable(ValueError):
    """This request's events cannot be stored (400); the message says why."""


class WriterFault(RuntimeError):
    """The writer could not store this request for a reason of its own (503, send again)."""


# what the writer raises for a request's own data, answered 400; any other failure is a fault (503)
DATA_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, OverflowError, UnicodeError)


class Start(msgspec.Struct, array_like=True):
    """The first frame: what the child needs (sent on stdin, so secrets are not on a command line)."""

    database_url: str  # PostgreSQL; empty for SQLite at `path`
    path: str
    synchronous: str
    secret: bytes
    idle_ms: int
    match_window_ms: int
    hosting_asns: list[int] = []  # the owner's hosting networks (FOOTFALL_HOSTING_ASNS), for company rows
    link_ttl_ms: int = 30 * 86_400_000  # FOOTFALL_LINK_TOKEN_DAYS


class Request(msgspec.Struct, array_like=True):
    id: int
    events: list[Event]


class Reply(msgspec.Struct, array_like=True):
    id: int
    ok: bool
    ids: list[tuple[str, str, int, int, bool, str, float]] = []
    error: str = ""
    fault: bool = False  # the failure was the writer's, not the request's data


class Frames:
    """Length-prefixed frames over a pipe: 4 bytes big-endian length, then the payload."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def _frame(self) -> bytes | None:
        if len(self.buffer) < 4:
            return None
        size = int.from_bytes(self.buffer[:4], "big")
        if len(self.buffer) < 4 + size:
            return None
        frame = bytes(self.buffer[4 : 4 + size])
        del self.buffer[: 4 + size]
        return frame

    def read(self, block: bool = True) -> bytes | None:
        """The next frame; None when `block` is false and none is complete. EOFError at the end."""
        while (frame := self._frame()) is None:
            if not block and not select.select([self.fd], [], [], 0)[0]:
                return None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        return frame


def frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(frame(payload))
    stream.flush()


class EventWriterProcess:
    """The parent's side, on the event loop: `await write(events)` returns after the commit.

    Requests made in one loop iteration travel as one frame; the child answers a whole
    group in one frame. No threads and no locks on this side.
    """

    def __init__(self, start: Start, timeout_s: float = 30.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._start_frame = msgspec.msgpack.encode(start)
        self._pending: dict[int, tuple[asyncio.Future[list[Event]], list[Event]]] = {}
        self._outbox: list[tuple[int, int, msgspec.Raw]] = []  # (request id, events, encoded request)
        self._outbox_events = 0
        self._frame_of: dict[int, int] = {}  # request id -> the frame that carried it
        self._unanswered: dict[int, int] = {}  # frame -> its requests not answered yet
        self._sent_at: dict[int, float] = {}  # frame -> when it went to the writer
        self.timeout_s = timeout_s
        self._monotonic = monotonic
        self.frames = 0  # frames sent since start
        self._frame_process: dict[int, int] = {}  # frame -> the writer process (generation) it went to
        self._generation = 0  # writer processes started
        self.restarts = 0  # writers killed by the watchdog
        self._counter = 0
        self._encode = msgspec.msgpack.Encoder().encode
        self._decode = msgspec.msgpack.Decoder(list[Reply]).decode
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        self._generation += 1
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "footfall.ingest.writer_process",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(frame(self._start_frame))
        self._reader = asyncio.create_task(self._receive(self._proc.stdout, self._generation))
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch())

    async def write(self, events: list[Event]) -> list[Event]:
        if self._closed:
            raise WriterGone("the event writer is closed")
        if self._reader is None or self._reader.done():  # none yet, or the last one's pipe closed
            await self.start()
        loop = asyncio.get_running_loop()
        self._counter += 1
        try:  # on its own: a request that cannot be encoded fails alone, before it joins a frame
            encoded = msgspec.Raw(self._encode(Request(self._counter, events)))
        except Exception as exc:  # noqa: BLE001 - any value msgpack cannot carry
            raise Unwritable(f"the events cannot be stored ({exc})") from None
        future: asyncio.Future[list[Event]] = loop.create_future()
        self._pending[self._counter] = (future, events)
        self._outbox.append((self._counter, len(events), encoded))
        self._outbox_events += len(events)
        if len(self._outbox) == 1 or len(events) >= BIG_FRAME_EVENTS:
            loop.call_soon(self._send)  # after this loop iteration: requests made in it travel together
        return await future

    def _send(self) -> None:
        """Sends the outbox as one frame if the writer has room for it (see BIG_FRAME_EVENTS)."""
        in_flight = len(self._unanswered)
        if not self._outbox or (in_flight and (in_flight >= MAX_IN_FLIGHT or self._outbox_events < BIG_FRAME_EVENTS)):
            return
        batch, self._outbox, self._outbox_events = self._outbox, [], 0
        self.frames += 1
        self._unanswered[self.frames] = len(batch)
        self._sent_at[self.frames] = self._monotonic()
        self._frame_process[self.frames] = self._generation
        for request_id, _, _ in batch:
            self._frame_of[request_id] = self.frames
        try:
            assert self._proc is not None and self._proc.stdin is not None
            self._proc.stdin.write(frame(self._encode([encoded for _, _, encoded in batch])))
        except Exception:  # noqa: BLE001 - a broken pipe or anything else: these requests fail, not the stream
            self._fail([request_id for request_id, _, _ in batch])

    def stalled_for(self) -> float:
        """Seconds the oldest frame in flight has waited for its answer (0 when none waits)."""
        if not self._sent_at:
            return 0.0
        return max(0.0, self._monotonic() - min(self._sent_at.values()))

    @property
    def waiting(self) -> int:
        """Requests handed to the writer and not answered yet (footfall_write_queue)."""
        return len(self._pending)

    async def _watch(self) -> None:
        """Kills a writer that holds a frame past the timeout: its requests fail with 503 (the
        reader sees the pipe close) and the next request starts a new writer."""
        while not self._closed:
            await asyncio.sleep(min(1.0, self.timeout_s / 4))
            if self.stalled_for() > self.timeout_s:
                log.error("the event writer has not answered for %.0f s: restarting it", self.stalled_for())
                self.restarts += 1
                self._fail(list(self._frame_of))  # what it holds: 503 now, whatever the dying writer does
                if self._proc is not None and self._proc.returncode is None:
                    self._proc.kill()
                await self.start()  # what waited in the outbox goes to the new writer
                self._send()

    async def _receive(self, stdout: asyncio.StreamReader, generation: int) -> None:
        try:
            while True:
                size = int.from_bytes(await stdout.readexactly(4), "big")
                for reply in self._decode(await stdout.readexactly(size)):
                    self._answer(reply)
        except (asyncio.IncompleteReadError, ConnectionError):
            if generation == self._generation:  # the writer died: everything waiting is told to send again
                self._fail(list(self._pending))
            else:  # a writer the watchdog replaced: only what was sent to it
                self._fail([r for r, f in self._frame_of.items() if self._frame_process[f] == generation])

    def _settle(self, request_id: int) -> bool:
        """Counts `request_id` as answered; True when that completes its frame."""
        frame = self._frame_of.pop(request_id, None)
        if frame is None:
            return False  # never sent (it waited in the outbox)
        self._unanswered[frame] -= 1
        if self._unanswered[frame]:
            return False
        del self._unanswered[frame]
        del self._sent_at[frame]
        del self._frame_process[frame]
        return True

    def _answer(self, reply: Reply) -> None:
        if self._settle(reply.id):
            self._send()  # a place is free: what waited goes now
        future, events = self._pending.pop(reply.id)
        if future.done():
            return
        if not reply.ok:
            future.set_exception(WriterFault(reply.error) if reply.fault else Unwritable(reply.error))
            return
        for event, (visitor_id, session_id, visitor_num, session_num, new, browser_id, confidence) in zip(
            events, reply.ids, strict=True
        ):
            event.visitor_id, event.session_id = visitor_id, session_id
            event.visitor_num, event.session_num, event.new_visitor = visitor_num, session_num, new
            event.browser_id, event.confidence = browser_id, confidence
        future.set_result(events)

    def _fail(self, ids: list[int]) -> None:
        failed = set(ids)
        # requests still waiting in the outbox leave it: told to send again, they must never also
        # reach the next writer process
        self._outbox = [r for r in self._outbox if r[0] not in failed]
        self._outbox_events = sum(n for _, n, _ in self._outbox)
        for request_id in ids:
            self._settle(request_id)
            future, _ = self._pending.pop(request_id, (None, None))
            if future is not None and not future.done():
                future.set_exception(WriterGone("the event writer process ended"))

    async def close(self) -> None:
        """Lets the writer finish what it holds (up to the timeout), then fails whatever is left."""
        self._closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()  # the child sees EOF, finishes its group and exits
            try:
                await asyncio.wait_for(self._proc.wait(), self.timeout_s)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
            if self._reader is not None:
                await asyncio.gather(self._reader, return_exceptions=True)
        self._fail(list(self._pending))  # never sent, or unanswered by a writer that is gone


def serve(stdin_fd: int, stdout: IO[bytes]) -> None:
    """The child: read requests, write each group in one transaction, answer after the commit."""
    frames = Frames(stdin_fd)
    start = msgspec.msgpack.decode(frames.read(), type=Start)  # type: ignore[arg-type]
    db = connect_db(start)
    writer = EventWriter(
        VisitorSigner(start.secret),
        LinkSigner(start.secret),
        start.idle_ms,
        start.match_window_ms,
        HostingNetworks(tuple(start.hosting_asns)),
        start.link_ttl_ms,
    )
    decode = msgspec.msgpack.Decoder(list[Request]).decode
    encode = msgspec.msgpack.Encoder().encode
    tune_gc()
    while True:
        try:
            group = decode(frames.read())  # type: ignore[arg-type]
            while len(group) < MAX_GROUP and (more := frames.read(block=False)) is not None:
                group.extend(decode(more))
        except EOFError:
            db.close()
            return
        write_frame(stdout, encode(_write_group(db, writer, group)))


def _write_group(db: Db, writer: EventWriter, group: list[Request]) -> list[Reply]:
    tx = db.tx_type(db.conn)
    try:
        with db.pipeline():
            db.begin(tx)
            writer.merge(tx, [r.events for r in group])
            db.commit(tx)
        return [_ok(r) for r in group]
    except Exception:
        db.rollback(tx)
    replies = []
    for request in group:  # one bad request never takes its group down
        tx = db.tx_type(db.conn)
        try:
            with db.pipeline():
                db.begin(tx)
                writer(tx, request.events)
                db.commit(tx)
            replies.append(_ok(request))
        except Exception as exc:  # noqa: BLE001 - reported to the waiting request
            db.rollback(tx)
            fault = not isinstance(exc, DATA_ERRORS + db.data_errors)
            replies.append(Reply(request.id, False, error=f"{type(exc).__name__}: {exc}", fault=fault))
    return replies


def _ok(request: Request) -> Reply:
    return Reply(
        request.id,
        True,
        [
            (e.visitor_id, e.session_id, e.visitor_num, e.session_num, e.new_visitor, e.browser_id, e.confidence)
            for e in request.events
        ],
    )


if __name__ == "__main__":
    serve(sys.stdin.fileno(), sys.stdout.buffer)
