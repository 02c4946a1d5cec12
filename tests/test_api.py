"""The studio's Gradio API, driven through gradio_client as a writer's script would."""

import re

import pytest

from tests.api_client import api_client


@pytest.fixture
def client(served_studio):
    return api_client(served_studio[0])


@pytest.mark.parametrize("served_studio", [{}, {"database": "postgresql"}], indirect=True,
                         ids=["sqlite", "postgresql"])
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
    # the page's own hint reaches the writer as itself, not as "something went wrong"
    with pytest.raises(AppError, match="Write a draft first, or paste the passage"):
        client.predict(None, "", api_name="/image_prompt")
    # a non-numeric seed, id or slider value names its field
    with pytest.raises(AppError, match="seed must be a whole number but is 'abc'"):
        client.predict("Write about herons", "", "", "", [], 16, 0.7, "abc", "", api_name="/write")
    with pytest.raises(AppError, match="id is a whole number from the table, not 'x'"):
        client.predict("x", api_name="/open_generation")
    with pytest.raises(AppError, match="search text is 9000 characters long; the limit is 8000"):
        client.predict("herons " * 1285 + "h" * 5, 3, "default", api_name="/search")


def test_not_found_probes_are_rejections_not_server_errors(client, served_studio, caplog):
    from gradio_client.exceptions import AppError

    client.predict("notes", api_name="/create_collection")
    with caplog.at_level("INFO"):
        for probe in [lambda: client.predict(12345, api_name="/regenerate"),
                      lambda: client.predict(12345, "rewrite", "", 16, 0.7, api_name="/revise"),
                      lambda: client.predict("Write about herons", "", "", "", ["no-such-collection"], 16, 0.7,
                                             "1", "", api_name="/write"),
                      lambda: client.predict(12345, api_name="/open_generation"),
                      lambda: client.predict("99999", api_name="/remove_document"),
                      lambda: client.predict("herons", 3, "no-such-collection", api_name="/search")]:
            with pytest.raises(AppError, match="There is no|Unknown collection"):
                probe()
    assert not [r for r in caplog.records if r.exc_info], "a bad id is the writer's, not a fault"
    assert served_studio[1].ops.errors_since(3600) == 0



def test_collections_compare_export_and_delete_through_the_api(client, make_file):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    # collections: create, rename, fill, delete (with what is in it)
    assert client.predict("harbour", api_name="/create_collection")[0]["value"] == "harbour"
    renamed = client.predict("harbour", "port", api_name="/rename_collection")[0]
    assert renamed["value"] == "port" and ["harbour", "harbour"] not in renamed["choices"]
    notes = make_file("quay.md", "# Quay\n\nThe north quay floods at spring tides twice a year.")
    client.predict([handle_file(str(notes))], "port", "keep", api_name="/add_documents")
    assert [row[1] for row in client.predict("quay floods", 3, "port", api_name="/search")["data"]] != []
    with pytest.raises(AppError, match="already exists"):
        client.predict("port", api_name="/create_collection")
    client.predict("port", api_name="/delete_collection")
    with pytest.raises(AppError, match="no collection called 'port'|Unknown collection"):
        client.predict("port", "harbour", api_name="/rename_collection")

    # two versions of a draft: compare them, export one, delete the other
    herons = make_file("herons.md", "# Herons\n\nGrey herons hunt fish in shallow water at dawn.")
    client.predict([handle_file(str(herons))], "default", "keep", api_name="/add_documents")
    first = client.predict("Write a short note about herons", "", "", "", [], 16, 0.7, "9", "", api_name="/write")[3]
    second = client.predict(first, api_name="/regenerate")[3]
    left, right, diff, _, _ = client.predict(first, second, api_name="/compare_generations")
    assert "Grey herons" in left and "Grey herons" in right and diff
    exported = client.predict(first, False, api_name="/export_markdown")
    text = open(exported["value"] if isinstance(exported, dict) else exported, encoding="utf-8").read()
    assert "Grey herons hunt fish in shallow water at dawn." in text and "[^1]" in text
    docx_file = client.predict(first, api_name="/export_generation_docx")
    assert open(docx_file["value"] if isinstance(docx_file, dict) else docx_file, "rb").read(2) == b"PK"
    listed = client.predict(second, api_name="/delete_generation")["data"]
    assert [row[0] for row in listed] == [first]
    with pytest.raises(AppError, match=f"There is no generation with id {second}"):
        client.predict(second, api_name="/open_generation")
