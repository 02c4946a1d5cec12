"""Accounts: password hashes, sessions, admins, and each writer seeing only their own, shared
and team material, checked in the knowledge layer and through the API as another writer's
script would try."""

import hashlib
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from knowledge import InvalidQuery, NotFound, UserError
from studio.accounts import USERS, Accounts, remove_writer
from studio.history import History
from tests.api_client import api_client

WRITERS = {"alice": "alice-password", "bob": "bob-password"}
HERONS = "# Herons\n\nGrey herons hunt fish in shallow water at dawn."
TIDES = "# Tides\n\nSpring tides follow the full and the new moon."


def test_passwords_are_stored_as_salted_hashes_and_checked(kb):
    accounts = Accounts(kb.engine)
    assert not accounts.enabled()
    alice = accounts.add("alice", "same-password")
    bob = accounts.add("bob", "same-password")
    assert accounts.enabled() and accounts.names() == ["alice", "bob"]
    assert alice.admin and not bob.admin  # the first writer is an admin, so someone is
    with kb.engine.connect() as conn:
        stored = list(conn.execute(sa.select(USERS.c.password_hash)).scalars())
    assert all("same-password" not in h for h in stored) and stored[0] != stored[1]
    assert accounts.check("alice", "same-password")
    assert not accounts.check("alice", "other-password") and not accounts.check("carol", "same-password")
    with pytest.raises(UserError, match="already a user"):
        accounts.add("alice", "another-password")
    with pytest.raises(UserError, match="8 characters"):
        accounts.add("carol", "short")
    for bad in ("../carol", "carol\u202e", "ca rol"):
        with pytest.raises(UserError, match="user name"):
            accounts.add(bad, "long-enough")
    accounts.set_password("alice", "a-new-password")
    assert accounts.check("alice", "a-new-password") and not accounts.check("alice", "same-password")
    with pytest.raises(UserError, match="only admin"):
        accounts.set_admin("alice", False)


def test_an_unknown_name_costs_one_password_hash_like_a_known_one(kb, monkeypatch):
    """Names cannot be told apart by how long a wrong login takes: one scrypt either way."""
    accounts = Accounts(kb.engine)
    accounts.add("alice", "alice-password")
    accounts.check("nobody", "warm-up")  # the stand-in hash is made once, on first use
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    accounts.check("alice", "wrong-password")
    known = len(calls)
    accounts.check("nobody", "wrong-password")
    assert known == 1 and len(calls) - known == 1


def writers(kb, accounts):
    return [kb.for_owner(accounts.add(name, password).owner) for name, password in WRITERS.items()]


def test_each_writer_sees_own_shared_and_team_collections(kb, make_file):
    kb.add_files([make_file("handbook.md", "# Handbook\n\nHerons and tides are our house topics.")], "team")
    accounts = Accounts(kb.engine)
    alice, bob = writers(kb, accounts)
    assert alice.add_files([make_file("herons.md", HERONS)], "notes")[0].status == "added"
    assert bob.add_files([make_file("tides.md", TIDES)])[0].status == "added"  # bob's own "notes"
    heron_doc = next(d for d in alice.documents() if d.name == "herons.md")
    heron_chunk = alice.search("grey herons hunt fish", k=1)[0]

    assert {(c.name, c.role) for c in alice.collections()} == {("notes", "owner"), ("team", "write")}
    assert {d.name for d in bob.documents()} == {"tides.md", "handbook.md"}
    assert "herons.md" not in {p.document_name for p in bob.search("grey herons hunt fish", k=10)}
    assert heron_chunk.document_name == "herons.md"
    # another writer's material reads as absent, whichever way it is named
    with pytest.raises(InvalidQuery, match="Unknown collection"):
        bob.search("herons", collections=["alice/notes"])
    for attempt in (lambda: bob.remove_document(heron_doc.id), lambda: bob.chunk_text(heron_chunk.chunk_id),
                    lambda: bob.document_text(heron_doc.id), lambda: bob.rename_collection("alice/notes", "mine"),
                    lambda: bob.documents("alice/notes"), lambda: bob.delete_collection("alice/notes")):
        with pytest.raises(NotFound):
            attempt()

    alice.share_collection("notes", accounts.find("bob").id, "read")
    assert "alice/notes" in {c.name for c in bob.collections()}
    hit = next(p for p in bob.search("grey herons hunt fish", k=10) if p.document_name == "herons.md")
    assert hit.collection == "alice/notes"
    with pytest.raises(UserError, match="read-only"):
        bob.remove_document(heron_doc.id)
    with pytest.raises(UserError, match="read-only"):
        bob.add_files([make_file("more.md", "More about herons.")], "alice/notes")

    alice.share_collection("notes", accounts.find("bob").id, "write")
    assert bob.add_files([make_file("more.md", "More about herons.")], "alice/notes")[0].status == "added"
    with pytest.raises(UserError, match="Only the owner"):
        bob.delete_collection("alice/notes")
    with pytest.raises(UserError, match="Only the owner"):
        bob.share_collection("alice/notes", accounts.find("bob").id, "write")

    alice.share_collection("notes", accounts.find("bob").id, "none")
    assert "alice/notes" not in {c.name for c in bob.collections()}
    assert kb.stats()["documents"] == 4 and bob.stats()["documents"] == 2  # his own figures


def test_collection_names_belong_to_their_owner_so_none_can_be_squatted(kb, make_file):
    """Today's hole: a writer made "carol/notes" before carol existed, shared it with her and read
    whatever her default uploads put there (or blocked them with "already exists")."""
    accounts = Accounts(kb.engine)
    alice, bob = writers(kb, accounts)
    for squat in ("carol/notes", "notes\u202e", "a\x00b"):
        with pytest.raises(InvalidQuery, match="cannot contain"):
            bob.create_collection(squat)
    bob.create_collection("notes")
    carol = kb.for_owner(accounts.add("carol", "carol-password").owner)
    assert carol.add_files([make_file("diary.md", "# Diary\n\nMy private diary about herons.")])[0].status == "added"
    assert [c.name for c in carol.collections()] == ["notes"]
    assert "diary.md" not in {d.name for d in bob.documents()}
    # a name another writer has is free for you, and trying it says nothing about theirs
    assert alice.create_collection("notes").name == "notes"
    with pytest.raises(InvalidQuery, match="already exists"):
        alice.create_collection("notes")


def test_a_removed_writer_material_goes_to_a_named_writer_or_is_deleted(kb, make_file):
    accounts = Accounts(kb.engine)
    history = History(kb.engine)
    alice, bob = writers(kb, accounts)
    bob.add_files([make_file("tides.md", TIDES)])
    bob_id = accounts.find("bob").id
    draft = dict(kind="text", action="write", status="done", request={}, brief=None, passages=[], messages=[],
                 model_id="m", backend="b", settings={}, seed=1, output="Spring tides.", cited=[], timings={})
    history.for_owner(bob_id, "bob").record(**draft)
    alice.create_collection("notes")
    with pytest.raises(UserError, match="another existing writer"):
        remove_writer(accounts, kb, history, "bob", give_to="nobody")

    remove_writer(accounts, kb, history, "bob", give_to="alice")
    assert {c.name for c in alice.collections()} == {"notes", "bob notes"}  # his "notes" renamed
    assert [r.output for r in history.for_owner(accounts.find("alice").id).list()] == ["Spring tides."]

    # a re-created bob is a new account: none of the old bob's material or drafts
    new_bob = kb.for_owner(accounts.add("bob", "bob-password-2").owner)
    assert new_bob.collections() == [] and history.for_owner(accounts.find("bob").id).list() == []
    new_bob.add_files([make_file("moon.md", "# Moon\n\nThe moon pulls the tides.")])
    remove_writer(accounts, kb, history, "bob")
    assert "moon.md" not in {d.name for d in kb.documents()}
    with pytest.raises(NotFound):
        remove_writer(accounts, kb, history, "bob")


def test_sessions_end_with_a_new_password_or_a_removed_account(kb):
    accounts = Accounts(kb.engine)
    accounts.add("alice", "alice-password")
    accounts.add("bob", "bob-password")
    sessions = accounts.sessions()
    sessions["token-a"] = "alice"
    sessions["token-b"] = "bob"
    assert sessions["token-a"] == "alice" and "token-b" in sessions and "forged" not in sessions
    accounts.set_password("alice", "alice-new-password")
    assert "token-a" not in sessions and sessions["token-b"] == "bob"
    remove_writer(accounts, kb, History(kb.engine), "bob")
    assert "token-b" not in sessions
    del sessions["token-b"]  # logging out of an ended session is harmless


@pytest.mark.parametrize("served_studio", [{"users": WRITERS}, {"users": WRITERS, "database": "postgresql"}],
                         indirect=True, ids=["sqlite", "postgresql"])
def test_writers_are_isolated_through_the_api(served_studio, make_file):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    url, _ = served_studio
    with pytest.raises(Exception):
        api_client(url, auth=("alice", "wrong-password"))
    alice = api_client(url, auth=("alice", WRITERS["alice"]))
    bob = api_client(url, auth=("bob", WRITERS["bob"]))

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
                 lambda: bob.predict(1, api_name="/remove_document"),
                 # illustrating her draft by its id was accepted and recorded as his
                 lambda: bob.predict("a heron", "", 2, 0, 64, 64, "3", 1, "", None, 0.6, draft_id,
                                     api_name="/illustrate")):
        with pytest.raises(AppError, match="no generation|no document|Unknown collection"):
            call()
    assert len(alice.predict(api_name="/history")["data"]) == 2

    # shared read-only, bob's search finds alice's passage, and he still cannot remove it
    alice.predict("alice-notes", "bob", "read", api_name="/share_collection")
    hits = bob.predict("grey herons hunt fish", 5, "", api_name="/search")["data"]
    assert "herons.md" in str(hits)
    with pytest.raises(AppError, match="read-only"):
        bob.predict(1, api_name="/remove_document")

    # sharing with a name nobody has answers as sharing with bob does, and stores nothing
    assert alice.predict("alice-notes", "nobody", "read", api_name="/share_collection") == \
        alice.predict("alice-notes", "bob", "read", api_name="/share_collection")

    # studio-wide facts and re-indexing are the admin's (alice, the first user): bob sees his own
    details, metrics, summary = bob.predict(api_name="/system_status")
    assert "ops" not in details and "database" not in details and not metrics
    assert details["knowledge base"]["documents"] == 1  # alice's note, shared with him
    assert "errors" not in summary.lower()
    admin_details, admin_metrics, _ = alice.predict(api_name="/system_status")
    assert "ops" in admin_details and "inkstone_requests_total" in admin_metrics
    with pytest.raises(AppError, match="Only an admin"):
        bob.predict(api_name="/reindex")
    alice.predict(api_name="/reindex")


def _login(url, name, password, **headers):
    import httpx

    return httpx.post(f"{url.rstrip('/')}/login", data={"username": name, "password": password}, headers=headers)


@pytest.mark.parametrize("served_studio", [{"users": WRITERS}], indirect=True)
def test_sessions_end_with_their_account_and_failed_logins_are_limited(served_studio):
    import httpx

    url, studio = served_studio
    alice = _login(url, "alice", WRITERS["alice"])
    assert alice.status_code == 200
    assert httpx.get(f"{url.rstrip('/')}/config", cookies=alice.cookies).status_code == 200
    studio.accounts.set_password("alice", "alice-new-password")  # as `python -m studio users password`
    assert httpx.get(f"{url.rstrip('/')}/config", cookies=alice.cookies).status_code == 401

    # five wrong passwords lock the name: then even the right one waits
    for _ in range(5):
        assert _login(url, "bob", "not-his-password").status_code == 400
    locked = _login(url, "bob", WRITERS["bob"])
    assert locked.status_code == 429 and "try again" in locked.json()["detail"]
    # an unknown name is limited the same way
    for _ in range(5):
        _login(url, "nobody", "guess")
    assert _login(url, "nobody", "guess").status_code == 429

    # over HTTPS (a proxy says so), only the Secure cookie is set
    secure = _login(url, "alice", "alice-new-password", **{"X-Forwarded-Proto": "https"})
    cookies = secure.headers.get_list("set-cookie")
    assert secure.status_code == 200 and cookies
    assert all("Secure" in c for c in cookies) and not any("unsecure" in c for c in cookies)


def test_the_first_account_turns_logins_on_in_a_running_studio(served_studio):
    """Before: every request got "Log in first" and no login worked until a restart."""
    import time

    import httpx

    url, studio = served_studio
    assert httpx.get(f"{url.rstrip('/')}/config").status_code == 200  # no accounts: open
    studio.accounts.add("alice", WRITERS["alice"])  # as `python -m studio users add alice`
    time.sleep(1.1)  # the studio looks for new accounts at most once a second
    httpx.get(f"{url}/")
    assert httpx.get(f"{url.rstrip('/')}/config").status_code == 401
    login = _login(url, "alice", WRITERS["alice"])
    assert login.status_code == 200
    assert httpx.get(f"{url.rstrip('/')}/config", cookies=login.cookies).status_code == 200


@pytest.mark.parametrize("served_studio", [{"users": WRITERS}], indirect=True)
def test_files_are_served_only_to_the_writer_they_belong_to(served_studio, make_file):
    """Before: any logged-in writer fetched another's images, exports and raw uploads by path,
    and they stayed valid after the draft or document was deleted."""
    import httpx
    from gradio_client import handle_file

    url, studio = served_studio
    base = url.rstrip("/")
    alice = api_client(url, auth=("alice", WRITERS["alice"]), download_files=False)
    cookies = {name: _login(url, name, password).cookies for name, password in WRITERS.items()}

    def fetch(file_url, name):
        return httpx.get(file_url, cookies=cookies[name]).status_code

    alice.predict([handle_file(str(make_file("herons.md", HERONS)))], "alice-notes", api_name="/add_documents")
    *_, draft_id, _ = alice.predict("Write a short note about herons", "", "", "", [], 16, 0.7, "5", "",
                                    api_name="/write")
    alice.predict("a heron", "", 2, 0, 64, 64, "3", 1, "", None, 0.6, draft_id, api_name="/illustrate")
    image = studio.history.list(kind="image")[0].output
    export = alice.predict(draft_id, False, api_name="/export_markdown")
    files = {"image": f"{base}/gradio_api/file={image}", "export": export["value"]["url"]}
    for file_url in files.values():
        assert fetch(file_url, "alice") == 200
        assert fetch(file_url, "bob") == 404

    # an upload is the uploader's; the Knowledge tab deletes it once the text is stored
    uploaded = httpx.post(f"{base}/gradio_api/upload", cookies=cookies["bob"],
                          files={"files": ("tides.md", TIDES.encode())}).json()[0]
    upload_url = f"{base}/gradio_api/file={uploaded}"
    assert fetch(upload_url, "bob") == 200 and fetch(upload_url, "alice") == 404
    bob = api_client(url, auth=("bob", WRITERS["bob"]))
    bob.predict([handle_file(str(make_file("moon.md", "# Moon\n\nThe moon pulls the tides.")))], "",
                api_name="/add_documents")
    assert not list(Path(os.environ["GRADIO_TEMP_DIR"]).rglob("moon.md"))

    # a deleted draft's export stops being served, to its writer too
    alice.predict(draft_id, api_name="/delete_generation")
    assert fetch(files["export"], "alice") == 404
