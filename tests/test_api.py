"""The studio's Gradio API, driven through gradio_client as a writer's script would."""

import re

import pytest


@pytest.fixture
def client(served_studio):
    from gradio_client import Client

    return Client(served_studio[0], verbose=False)


def test_scripted_session_upload_search_write_illustrate_history(client, make_file):
    from gradio_client import handle_file

    good = make_file("herons.md", "# Herons\n\nGrey herons hunt fish in shallow water at dawn.")
    bad = make_file("broken.pdf", b"%PDF-1.4 not really")
    report = client.predict([handle_file(str(good)), handle_file(str(bad))], "default",
                            api_name="/add_documents")[0]["data"]
    assert report[0][:3] == ["herons.md", "added", 1]
    assert report[1][1] == "failed" and "damaged" in report[1][3]

    hits = client.predict("herons hunting", 3, "default", api_name="/search")["data"]
    assert hits[0][2] == "herons.md"

    draft, sources, status, draft_id, text = client.predict(
        "Write a short note about herons", "", "", "", [], 16, 0.7, "9", "", api_name="/write")
    assert draft and draft_id >= 1 and "seed 9" in status
    assert "Grey herons hunt fish in shallow water at dawn. [1]" in text and 'data-testid="citation"' in draft
    assert sources["data"][0][2] == "herons.md"

    again, _, status, again_id, _ = client.predict(draft_id, api_name="/regenerate")
    assert again_id == draft_id + 1 and re.search(r"seed (\d+)", status)[1] != "9"  # a new seed

    gallery, message = client.predict("a heron at dawn", "", 2, 0, 64, 64, "3", 1, "", None, 0.6,
                                      draft_id, api_name="/illustrate")
    assert len(gallery) == 1 and "seeds 3" in message

    history = client.predict(api_name="/history")["data"]
    assert [row[1] for row in history] == ["image", "text", "text"]
    opened = client.predict(draft_id, api_name="/open_generation")
    assert "herons.md" in opened[1]
    status = client.predict(api_name="/system_status")[0]
    assert status["knowledge base"]["documents"] == 1


def test_errors_come_back_as_readable_messages(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="query is empty"):
        client.predict("   ", 3, "default", api_name="/search")
    with pytest.raises(AppError, match="request is empty"):
        client.predict("", "", "", "", [], 16, 0.7, "1", "", api_name="/write")
