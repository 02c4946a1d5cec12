"""Run a parser on one file in a child process with a time and memory bound.

PDF and DOCX parsers can be driven into hangs or huge allocations by hostile or broken files
(decompression bombs, circular object references). Parsing in a forked child that has an
address-space limit and a deadline means such a file costs one child process and becomes a
clear per-file error; the studio and the rest of the batch carry on.
"""

from __future__ import annotations

import multiprocessing
import resource
import traceback
from multiprocessing.connection import Connection

from knowledge.errors import UnreadableFile, UserError
from knowledge.readers import ParsedDocument, read_document

_CONTEXT = None


def _context():
    # forkserver: children fork from a small clean process, not from a studio that holds
    # models and threads (forking a multi-threaded process can deadlock).
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["knowledge.readers", "bs4", "docx", "pypdfium2"])
        _CONTEXT = ctx
    return _CONTEXT


def _address_space() -> int:
    """This process's virtual memory in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        return 0


def _child(conn: Connection, data: bytes, name: str, memory_bytes: int) -> None:
    # The bound is what the parser may add: the child starts with about half a gigabyte of
    # address space already mapped (Python, the readers' libraries, thread arenas), which a
    # bound on the total would leave to chance.
    limit = _address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        conn.send(("ok", read_document(data, name)))
    except UserError as exc:
        conn.send(("error", exc))  # pickled with its code and params
    except MemoryError:
        conn.send(("error", UnreadableFile(f"{name}: needs more than the memory limit to read; it may be a "
                                           "decompression bomb or a very complex file",
                                           code="file_too_complex", name=name)))
    except RecursionError:
        conn.send(("error", UnreadableFile(f"{name}: is nested too deeply to read (circular or hostile "
                                           "structure)", code="file_too_complex", name=name)))
    except Exception as exc:  # a parser bug or a damaged file we have no better word for
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        conn.send(("error", UnreadableFile(f"{name}: could not be read; the file looks damaged ({detail[:200]})",
                                           code="file_damaged", name=name)))
    finally:
        conn.close()


def read_document_bounded(data: bytes, name: str, *, timeout_s: float,
                          memory_mb: int) -> ParsedDocument:
    """Parse like :func:`knowledge.readers.read_document`, in a child process.

    Raises :class:`UnreadableFile` when the child reports an error, runs past ``timeout_s``,
    or dies (for example when it hits ``memory_mb``: the address space the parser may add to
    the child's own).
    """
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, data, name, memory_mb * 2**20), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            raise UnreadableFile(
                f"{name}: reading took longer than {timeout_s:g} s and was stopped; the file may "
                "be damaged or built to hang parsers", code="file_timeout", name=name, seconds=timeout_s)
        try:
            status, payload = receiver.recv()
        except EOFError:
            raise UnreadableFile(
                f"{name}: the reader crashed on this file (it may be damaged, or need more than "
                f"{memory_mb} MB to read)", code="file_too_complex", name=name) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
    if status == "error":
        raise payload
    return payload
