"""Accounts: password hashes, and each writer seeing only their own, shared and team material,
checked in the knowledge layer and through the API as another writer's script would try."""

import pytest
import sqlalchemy as sa

from knowledge import InvalidQuery, NotFound, UserError
from studio.accounts import USERS, Accounts, WriterKnowledge

WRITERS = {"alice": "alice-password", "bob": "bob-password"}
HERONS = "# Herons\n\nGrey herons hunt fish in shallow water at dawn."
TIDES = "# Tides\n\nSpring tides follow the full and the new moon."


def test_passwords_are_stored_as_salted_hashes_and_checked(kb):
    accounts = Accounts(kb.engine)
    assert not accounts.enabled()
    accounts.add("alice", "same-password")
    accounts.add("bob", "same-password")
    assert accounts.enabled() and accounts.names() == ["alice", "bob"]
    with kb.engine.connect() as conn:
        stored = list(conn.execute(sa.select(USERS.c.password_hash)).scalars())
    assert all("same-password" not in h for h in stored) and stored[0] != stored[1]
    assert accounts.check("alice", "same-password")
    assert not accounts.check("alice", "other-password") and not accounts.check("carol", "same-password")
    with pytest.raises(UserError, match="already a user"):
        accounts.add("alice", "another-password")
    with pytest.raises(UserError, match="8 characters"):
        accounts.add("carol", "short")
    with pytest.raises(UserError, match="user name"):
        accounts.add("../carol", "long-enough")
    accounts.set_password("alice", "a-new-password")
    assert accounts.check("alice", "a-new-password") and not accounts.check("alice", "same-password")


def test_each_writer_sees_own_shared_and_team_collections(kb, make_file):
    kb.add_files([make_file("handbook.md", "# Handbook\n\nHerons and tides are our house topics.")], "team")
    accounts = Accounts(kb.engine)
    for name, password in WRITERS.items():
        accounts.add(name, password)
    alice, bob = (WriterKnowledge(kb, accounts, name) for name in WRITERS)
    assert alice.add_files([make_file("herons.md", HERONS)], "alice-notes")[0].status == "added"
    assert bob.add_files([make_file("tides.md", TIDES)], "bob-notes")[0].status == "added"
    heron_doc = next(d for d in alice.documents() if d.name == "herons.md")
    heron_chunk = alice.search("grey herons hunt fish", k=1)[0]

    assert {c.name for c in alice.collections()} == {"alice-notes", "team"}
    assert {d.name for d in bob.documents()} == {"tides.md", "handbook.md"}
    assert "herons.md" not in {p.document_name for p in bob.search("grey herons hunt fish", k=10)}
    assert heron_chunk.document_name == "herons.md"
    # another writer's material reads as absent, whichever way it is named
    with pytest.raises(InvalidQuery, match="Unknown collection"):
        bob.search("herons", collections=["alice-notes"])
    with pytest.raises(NotFound):
        bob.remove_document(heron_doc.id)
    with pytest.raises(NotFound):
        bob.chunk_text(heron_chunk.chunk_id)
    with pytest.raises(NotFound):
        bob.document_text(heron_doc.id)
    with pytest.raises(NotFound):
        bob.rename_collection("alice-notes", "mine now")
    with pytest.raises(NotFound):
        bob.documents("alice-notes")

    alice.share_collection("alice-notes", "bob", "read")
    assert "herons.md" in {p.document_name for p in bob.search("grey herons hunt fish", k=10)}
    with pytest.raises(UserError, match="read-only"):
        bob.remove_document(heron_doc.id)
    with pytest.raises(UserError, match="read-only"):
        bob.add_files([make_file("more.md", "More about herons.")], "alice-notes")

    alice.share_collection("alice-notes", "bob", "write")
    assert bob.add_files([make_file("more.md", "More about herons.")], "alice-notes")[0].status == "added"
    with pytest.raises(UserError, match="Only the owner"):
        bob.delete_collection("alice-notes")
    with pytest.raises(UserError, match="Only the owner"):
        bob.share_collection("alice-notes", "bob", "write")

    alice.share_collection("alice-notes", "bob", "none")
    assert "alice-notes" not in {c.name for c in bob.collections()}
    # a removed writer's collections stay, as team collections
    accounts.remove("alice")
    assert bob.role("alice-notes") == "write"


@pytest.mark.parametrize("served_studio", [{"users": WRITERS}], indirect=True)
def test_writers_are_isolated_through_the_api(served_studio, make_file):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    url, _ = served_studio
    with pytest.raises(Exception):
        Client(url, auth=("alice", "wrong-password"), verbose=False)
    alice = Client(url, auth=("alice", WRITERS["alice"]), verbose=False)
    bob = Client(url, auth=("bob", WRITERS["bob"]), verbose=False)

    report = alice.predict([handle_file(str(make_file("herons.md", HERONS)))], "alice-notes",
                           api_name="/add_documents")[0]["data"]
    assert report[0][:2] == ["herons.md", "added"]
    draft, sources, status, draft_id, _ = alice.predict(
        "Write a short note about herons", "", "", "", [], 16, 0.7, "5", "", api_name="/write")
    assert sources["data"][0][2] == "herons.md"
    alice.predict("a heron", "", 2, 0, 64, 64, "3", 1, "", None, 0.6, draft_id, api_name="/illustrate")

    # bob finds nothing of alice's: not by search, writing, history, ids or exports
    hits = bob.predict("grey herons hunt fish", 5, "", api_name="/search")["data"]
    assert "herons.md" not in str(hits)
    _, bob_sources, _, bob_draft, _ = bob.predict("Write about herons", "", "", "", [], 16, 0.7, "5", "",
                                                  api_name="/write")
    assert "herons.md" not in str(bob_sources["data"])
    assert [row[0] for row in bob.predict(api_name="/history")["data"]] == [bob_draft]
    for call in (lambda: bob.predict(draft_id, api_name="/open_generation"),
                 lambda: bob.predict(draft_id, api_name="/export_docx"),
                 lambda: bob.predict(draft_id, api_name="/rerun"),
                 lambda: bob.predict(draft_id, "", api_name="/image_prompt"),
                 lambda: bob.predict(draft_id, "rewrite", "", 16, 0.7, api_name="/revise"),
                 lambda: bob.predict("Write", "", "", "", ["alice-notes"], 16, 0.7, "5", "", api_name="/write"),
                 lambda: bob.predict(1, api_name="/remove_document")):
        with pytest.raises(AppError, match="no generation|no document|Unknown collection"):
            call()
    assert len(alice.predict(api_name="/history")["data"]) == 2

    # shared read-only, bob's search finds alice's passage, and he still cannot remove it
    alice.predict("alice-notes", "bob", "read", api_name="/share_collection")
    hits = bob.predict("grey herons hunt fish", 5, "", api_name="/search")["data"]
    assert "herons.md" in str(hits)
    with pytest.raises(AppError, match="read-only"):
        bob.predict(1, api_name="/remove_document")
