"""Facts both packages need: which writing system a text is in, how long it is, and how many
threads a model may use.

Used by the knowledge base (chunking, lexical search) and the studio (generators, checks), so
that neither imports the other for them. Imports nothing from either.
"""

import os


def cpu_threads() -> int:
    """How many threads a model may compute on: ``INKSTONE_CPU_THREADS`` when set, else the
    machine's physical cores (llama.cpp and ONNX Runtime gain nothing from hyper-threads).

    Set it lower when the studio shares its machine: llama.cpp's and torch's threads spin while
    they wait for each other, so more threads than free cores is slower than fewer (each test
    worker takes its share, see tests/conftest.py; torch reads ``OMP_NUM_THREADS`` for its own).
    """
    wanted = os.environ.get("INKSTONE_CPU_THREADS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1
