"""A real OpenAI-compatible model server for the tests: llama.cpp's server
(``python -m llama_cpp.server``, from ``llama-cpp-python`` and its server extras) on a free
loopback port, serving the packaged SmolLM2 GGUF. Tests can kill it mid-stream and start it again.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

MODEL_ALIAS = "smollm2-135m"
API_KEY = "test-key-7d1e"  # the server refuses requests without it: the 401 path is real too


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ModelServer:
    """One ``llama_cpp.server`` process; ``url`` is its API root (``http://127.0.0.1:PORT/v1``)."""

    def __init__(self, gguf: Path, log_file: Path, *, port: int | None = None):
        self.gguf = gguf
        self.log_file = log_file
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout_s: float = 120.0) -> None:
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.gguf),
                   "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(self.port),
                   "--n_ctx", "2048", "--n_threads", "1", "--api_key", API_KEY]
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited ({self.process.returncode}); see {self.log_file}")
            try:
                if httpx.get(f"{self.url}/models", headers={"Authorization": f"Bearer {API_KEY}"},
                             timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"llama_cpp.server did not answer within {timeout_s:g} s; see {self.log_file}")

    def kill(self) -> None:
        """Stop it the hard way, as a crash or a pulled plug would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None
