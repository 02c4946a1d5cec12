"""How the studio is served (the same ``launch`` as app.py): the queue, the upload limit and
the files it will hand out."""

import os
import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.api_client import api_client


class GatedModel:
    """A stand-in text model that writes nothing until the test opens its gate, so requests
    pile up in the queue for as long as the test needs (the queue is what is under test)."""

    model_id = "gated-test-model"
    backend = "test"
    context_window = 2048

    def __init__(self):
        self.gate = threading.Event()

    def count_tokens(self, text):
        return len(text.split())

    def info(self):
        return {"id": self.model_id, "backend": self.backend}

    def stream(self, messages, settings, cancel=None):
        self.gate.wait(120)
        yield "Herons wait."


GATED = GatedModel()
WRITE = ("Write a line about herons", "", "", "", [], 16, 0.7, "1", "single")


def wait_for(check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_building_the_page_asks_nobody_for_anything(served_studio, monkeypatch):
    """Gradio's analytics are off: no version check against PyPI when the page is built, and
    so no launch report to Gradio's makers either (both follow the one setting)."""
    from gradio import analytics

    from studio.ui import build_demo

    asked = []
    monkeypatch.setattr(analytics, "version_check", lambda: asked.append("pypi"))
    demo = build_demo(served_studio[1])
    assert demo.analytics_enabled is False and asked == []


@pytest.mark.parametrize("served_studio", [{"generator": GATED, "queue_size": 2}], indirect=True)
def test_waiting_writers_see_their_place_and_a_full_queue_says_so(served_studio):
    from gradio_client.utils import Status

    client = api_client(served_studio[0])
    GATED.gate.clear()
    try:
        running = client.submit(*WRITE, api_name="/write")
        wait_for(lambda: running.status().code in (Status.PROCESSING, Status.ITERATING))
        queued = [client.submit(*WRITE, api_name="/write") for _ in range(2)]
        statuses = [wait_for(lambda j=j: (s := j.status()).code == Status.IN_QUEUE and s) for j in queued]
        assert sorted(s.rank for s in statuses) == [0, 1]  # "position 1 of 2", "2 of 2" on the page
        assert max(s.queue_size for s in statuses) == 2  # sizes as each joined: 1, then 2

        refused = client.submit(*WRITE, api_name="/write")
        with pytest.raises(Exception, match="[Qq]ueue is full"):
            refused.result(timeout=60)
    finally:
        GATED.gate.set()
    assert "Herons wait." in running.result(timeout=60)[0]
    assert all("Herons wait." in job.result(timeout=60)[0] for job in queued)


def test_uploads_over_the_limit_are_refused_before_they_are_read(served_studio):
    url, studio = served_studio  # the studio's limit is 1 MB here
    big = b"herons " * (2 * 2**20 // 7)
    response = httpx.post(f"{url}gradio_api/upload", files={"files": ("big.txt", big, "text/plain")})
    assert response.status_code == 413, response.text
    assert f"maximum allowed size of {2**20} bytes" in response.text
    # nothing of it was kept in Gradio's upload folder
    kept = [p.name for p in Path(os.environ["GRADIO_TEMP_DIR"]).rglob("*") if p.is_file()]
    assert "big.txt" not in kept
    small = httpx.post(f"{url}gradio_api/upload", files={"files": ("small.txt", b"herons", "text/plain")})
    assert small.status_code == 200


def test_only_the_image_folder_is_served_by_path(served_studio, tmp_path):
    url, studio = served_studio
    image = studio.images_dir / "2026-11" / "inkstone-test.png"
    image.parent.mkdir(parents=True)
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the browser")

    def status(path):
        return httpx.get(f"{url}gradio_api/file={path}").status_code

    assert status(image) == 200
    refused = [secret, "/etc/passwd", f"{studio.images_dir}/../inkstone.db", studio.kb.settings.index_path]
    if studio.kb.engine.dialect.name == "sqlite":  # the database file sits in the data folder
        refused.append(studio.kb.settings.data_dir / "inkstone.db")
        assert refused[-1].exists()
    for path in refused:
        assert status(path) in (403, 404), path


def test_metrics_are_off_by_default(served_studio):
    url, _ = served_studio
    response = httpx.get(f"{url}metrics")
    assert "inkstone_requests_total" not in response.text


@pytest.mark.parametrize("served_studio", [{"metrics": True, "users": {"alice": "alice-password-1",
                                                                      "bob": "bob-password-1"}}], indirect=True)
def test_metrics_serve_ops_model_state_and_memory_behind_the_login(served_studio):
    url, studio = served_studio
    assert httpx.get(f"{url}metrics").status_code == 401
    with httpx.Client(base_url=url) as browser:  # bob is a writer: studio-wide figures are not his
        assert browser.post("login", data={"username": "bob", "password": "bob-password-1"}).status_code == 200
        assert browser.get("metrics").status_code == 403
    with httpx.Client(base_url=url) as browser:  # alice, the first account, is the admin
        logged_in = browser.post("login", data={"username": "alice", "password": "alice-password-1"})
        assert logged_in.status_code == 200, logged_in.text
        response = browser.get("metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE inkstone_requests_total counter" in text  # Ops' own text
    assert re.search(r'inkstone_model_loaded\{role="text",model="[^"]+"\} [01]', text)
    assert re.search(r'inkstone_model_loaded\{role="embedding",model="[^"]+"\} [01]', text)
    assert int(re.search(r"inkstone_process_resident_memory_bytes (\d+)", text)[1]) > 10 * 2**20


def test_an_upload_with_an_empty_file_name_is_refused_not_a_server_error(served_studio):
    url, _ = served_studio
    response = httpx.post(f"{url}gradio_api/upload", files={"files": ("", b"herons hunt", "text/plain")})
    assert response.status_code == 400 and "needs a file name" in response.text
