"""Model servers a writer connects from the browser (Settings): OpenAI-compatible text servers
(Ollama, vLLM, llama.cpp's server, a hosted API) and image models (a diffusers folder or hub id).

Connections live in SQL next to the history (migration ``studio-0010-connections``); an API key
is stored encrypted with Fernet under a key file in the data folder (mode 0600), and is never
read back to a page: :class:`Connection` only says whether one is set. :func:`probe` asks a
server for its models (``GET {base_url}/models``) and says in plain words what went wrong.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection as SqlConnection, Engine

from knowledge.errors import NotFound
from knowledge.migrations import Migration, apply_migrations
from studio.errors import StudioError

KINDS = ("text", "image")

_META = sa.MetaData()
CONNECTIONS = sa.Table(
    "connections", _META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(60), nullable=False, unique=True),
    sa.Column("kind", sa.String(8), nullable=False),  # "text" | "image"
    sa.Column("base_url", sa.Text, nullable=False),  # text: the API root, e.g. http://box:8000/v1
    sa.Column("model", sa.Text, nullable=False),  # image: diffusers folder or hub id; text: unused
    sa.Column("languages", sa.String(100), nullable=False),  # "en,zh": what its models write; "" unknown
    sa.Column("context_window", sa.Integer, nullable=False),  # tokens; 0 unknown
    sa.Column("secret", sa.Text),  # the API key, Fernet-encrypted; NULL: none
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


def _create_connections(conn: SqlConnection) -> None:
    meta = sa.MetaData()
    CONNECTIONS.to_metadata(meta).create(conn)


CONNECTION_MIGRATIONS = [Migration("studio-0010-connections", _create_connections)]


@dataclass(frozen=True)
class Connection:
    id: int
    name: str
    kind: str
    base_url: str
    model: str
    languages: tuple[str, ...]  # empty: not known
    context_window: int  # 0: not known
    has_key: bool  # the key itself never leaves :class:`Connections`


@dataclass(frozen=True)
class Probe:
    """What a server answered when asked for its models; ``problem`` says what went wrong."""

    ok: bool
    models: tuple[str, ...] = ()
    latency_ms: float = 0.0
    problem: StudioError | None = None  # with a code, so a page says it in its own language
    context_windows: dict | None = None  # model -> tokens, where the server says

    @property
    def error(self) -> str:
        """What went wrong, in English ("" when nothing did)."""
        return str(self.problem) if self.problem else ""


def _failed(message: str, code: str, latency_ms: float = 0.0, **params) -> Probe:
    return Probe(False, latency_ms=latency_ms, problem=StudioError(message, code=code, **params))


def parse_languages(text: str) -> tuple[str, ...]:
    """Language codes a writer typed.

    >>> parse_languages(" en, ZH ;ja"), parse_languages("")
    (('en', 'zh', 'ja'), ())
    """
    return tuple(code.strip().lower() for code in text.replace(";", ",").split(",") if code.strip())


def probe(base_url: str, api_key: str = "", *, timeout_s: float = 5.0) -> Probe:
    """Ask the OpenAI-compatible server at ``base_url`` for its models (``GET /models``).

    Never raises for a server's failure: the :class:`Probe` says what went wrong in words a
    writer can act on (wrong URL, nothing listening, a refused key, no answer, a TLS problem).
    """
    import httpx

    base = base_url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        return _failed(f"{base_url!r} is not a web address: it must start with http:// or https://",
                       "url_not_web", url=base_url)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    started = time.perf_counter()
    try:
        response = httpx.get(f"{base}/models", headers=headers, timeout=timeout_s)
    except httpx.ConnectTimeout:
        return _failed(f"No answer from {base} within {timeout_s:g} s: is the address right, and can this "
                       "machine reach it?", "server_no_answer", url=base, seconds=timeout_s)
    except httpx.TimeoutException:
        return _failed(f"{base} accepted the connection but did not answer within {timeout_s:g} s: the "
                       "server may be busy or still loading.", "server_slow", url=base, seconds=timeout_s)
    except httpx.ConnectError as exc:
        text = str(exc)
        if "SSL" in text or "certificate" in text.lower() or "TLS" in text:
            return _failed(f"The TLS (https) handshake with {base} failed ({text[:160]}): check http:// "
                           "against https:// and the server's certificate.", "server_tls", url=base,
                           detail=text[:160])
        if "refused" in text.lower():
            return _failed(f"Nothing is listening at {base} (connection refused): is the server running, "
                           "and is the port right?", "server_refused", url=base)
        return _failed(f"{base} could not be reached ({text[:160]}): check the host name.",
                       "server_unreachable", url=base, detail=text[:160])
    except httpx.HTTPError as exc:
        detail = f"{exc.__class__.__name__}: {str(exc)[:160]}"
        return _failed(f"{base} could not be asked for its models ({detail}).", "server_failed", url=base,
                       detail=detail)
    latency = (time.perf_counter() - started) * 1000
    if response.status_code in (401, 403):
        return _failed(f"{base} refused the API key ({response.status_code}): check the key.", "key_refused",
                       latency, url=base, status=response.status_code)
    if response.status_code == 404:
        return _failed(f"{base}/models does not exist (404): the base URL of an OpenAI-compatible server "
                       "usually ends in /v1, e.g. http://127.0.0.1:8000/v1", "models_404", latency, url=base)
    if response.status_code != 200:
        return _failed(f"{base} answered {response.status_code}: {response.text[:200]}", "server_status",
                       latency, url=base, status=response.status_code, detail=response.text[:200])
    try:
        data = response.json()["data"]
        models = tuple(str(m["id"]) for m in data)
    except (ValueError, KeyError, TypeError):
        return _failed(f"{base}/models answered, but not as an OpenAI-compatible server does (no list of "
                       "models): check the URL.", "not_openai", latency, url=base)
    windows = {}
    for m in data:  # vLLM says max_model_len; llama.cpp's llama-server says meta.n_ctx_train
        window = m.get("max_model_len") or (m.get("meta") or {}).get("n_ctx_train")
        if isinstance(window, int) and window > 0:
            windows[str(m["id"])] = window
    return Probe(True, models=models, latency_ms=latency, context_windows=windows)


def probe_image_model(model: str) -> Probe:
    """Whether a diffusers model folder or hub id can be loaded here without a download."""
    started = time.perf_counter()
    folder = Path(model).expanduser()
    if folder.is_dir():
        if (folder / "model_index.json").exists():
            return Probe(True, models=(model,), latency_ms=(time.perf_counter() - started) * 1000)
        return _failed(f"{model} has no model_index.json: it is not a diffusers model folder.",
                       "not_diffusers_folder", model=model)
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(model, local_files_only=True, allow_patterns=["model_index.json"])
    except Exception:  # noqa: BLE001 - any failure here means "not in the local cache"
        return _failed(f"{model!r} is neither a folder here nor a model in the local Hugging Face cache; the "
                       "studio runs offline, so download it first.", "image_model_missing", model=model)
    return Probe(True, models=(model,), latency_ms=(time.perf_counter() - started) * 1000)


class KeyBox:
    """Encrypts API keys with Fernet under a key made on first use at ``key_file`` (mode 0600)."""

    def __init__(self, key_file: Path):
        self.key_file = key_file

    def _fernet(self):
        from cryptography.fernet import Fernet

        if not self.key_file.exists():
            self.key_file.parent.mkdir(parents=True, exist_ok=True)
            partial = self.key_file.with_name(f".{self.key_file.name}.{os.getpid()}")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
            try:
                os.link(partial, self.key_file)  # another process may have made it first: keep theirs
            except FileExistsError:
                pass
            finally:
                partial.unlink()
        return Fernet(self.key_file.read_bytes().strip())

    def seal(self, secret: str) -> str:
        return self._fernet().encrypt(secret.encode()).decode()

    def open(self, token: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet().decrypt(token.encode()).decode()
        except InvalidToken:
            raise StudioError(f"A stored API key cannot be decrypted with {self.key_file}: the key file "
                              "was replaced. Enter the API key again in Settings.", code="key_lost",
                              file=str(self.key_file)) from None


def _no_connection(connection_id: int) -> NotFound:
    return NotFound(f"No connection {connection_id}; it may have been removed.", code="no_connection",
                    id=connection_id)


class Connections:
    """The studio's model connections in SQL. Build with the studio's engine and a key file."""

    def __init__(self, engine: Engine, key_file: Path, *, migrate: bool = True):
        self.engine = engine
        self.keys = KeyBox(key_file)
        if migrate:
            apply_migrations(engine, CONNECTION_MIGRATIONS)

    def list(self, kind: str | None = None) -> list[Connection]:
        query = sa.select(CONNECTIONS).order_by(CONNECTIONS.c.name)
        if kind:
            query = query.where(CONNECTIONS.c.kind == kind)
        with self.engine.connect() as conn:
            return [_connection(row) for row in conn.execute(query)]

    def get(self, connection_id: int) -> Connection:
        return self._one(CONNECTIONS.c.id == connection_id, _no_connection(connection_id))

    def by_name(self, name: str) -> Connection:
        return self._one(CONNECTIONS.c.name == name, NotFound(
            f"No connection named {name!r}; it may have been removed or renamed in Settings.",
            code="no_connection_named", name=name))

    def _one(self, where, missing: NotFound) -> Connection:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(CONNECTIONS).where(where)).first()
        if row is None:
            raise missing
        return _connection(row)

    def api_key(self, connection_id: int) -> str:
        """The decrypted key, for talking to the server only (never for a page)."""
        with self.engine.connect() as conn:
            token = conn.execute(sa.select(CONNECTIONS.c.secret).where(CONNECTIONS.c.id == connection_id)).scalar()
        return self.keys.open(token) if token else ""

    def save(self, *, name: str, kind: str, base_url: str = "", model: str = "", languages: str = "",
             context_window: int = 0, api_key: str | None = None, connection_id: int | None = None) -> Connection:
        """Add a connection, or change connection ``connection_id``. ``api_key``: None keeps the
        stored key, "" removes it, anything else replaces it."""
        # 1. check inputs
        name, base_url, model = name.strip(), base_url.strip().rstrip("/"), model.strip()
        if not name or len(name) > 60 or "/" in name:
            raise StudioError("Name the connection: 1 to 60 characters, no '/'.", code="connection_name")
        if kind not in KINDS:
            raise StudioError(f"`kind` must be one of {', '.join(KINDS)} but is {kind!r}", code="not_one_of",
                              field="kind", choices=", ".join(KINDS), value=kind)
        if kind == "text" and not base_url.startswith(("http://", "https://")):
            raise StudioError(f"The server's base URL must start with http:// or https:// but is {base_url!r} "
                              "(e.g. http://127.0.0.1:8000/v1).", code="base_url_not_web", url=base_url)
        if kind == "image" and not model:
            raise StudioError("Name the image model: a diffusers model folder or a hub id.",
                              code="image_model_empty")
        if not 0 <= int(context_window) <= 10_000_000:
            raise StudioError(f"`context_window` must be between 0 (unknown) and 10000000 tokens but is "
                              f"{context_window}", code="out_of_range", field="context_window", low=0,
                              high=10_000_000, value=context_window)
        values = dict(name=name, kind=kind, base_url=base_url, model=model,
                      languages=",".join(parse_languages(languages)), context_window=int(context_window),
                      updated_at=datetime.now(timezone.utc))
        if api_key is not None:
            values["secret"] = self.keys.seal(api_key.strip()) if api_key.strip() else None
        # 2. store (the name is unique)
        with self.engine.begin() as conn:
            clash = conn.execute(sa.select(CONNECTIONS.c.id).where(CONNECTIONS.c.name == name)).scalar()
            if clash is not None and clash != connection_id:
                raise StudioError(f"A connection named {name!r} exists already; choose another name or edit it.",
                                  code="connection_exists", name=name)
            if connection_id is None:
                connection_id = conn.execute(CONNECTIONS.insert().values(**values)).inserted_primary_key[0]
            elif not conn.execute(CONNECTIONS.update().where(CONNECTIONS.c.id == connection_id).values(**values)).rowcount:
                raise _no_connection(connection_id)
        return self.get(connection_id)

    def remove(self, connection_id: int) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(CONNECTIONS.delete().where(CONNECTIONS.c.id == connection_id)).rowcount:
                raise _no_connection(connection_id)

    def test(self, connection: Connection, *, timeout_s: float = 5.0) -> Probe:
        """Probe a stored connection with its stored key."""
        if connection.kind == "image":
            return probe_image_model(connection.model)
        return probe(connection.base_url, self.api_key(connection.id), timeout_s=timeout_s)


def _connection(row) -> Connection:
    return Connection(id=row.id, name=row.name, kind=row.kind, base_url=row.base_url, model=row.model,
                      languages=parse_languages(row.languages), context_window=row.context_window,
                      has_key=bool(row.secret))
