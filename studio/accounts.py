"""Writers' accounts: names, passwords, the admin role and login sessions.

Accounts are off until the first user is added (``python -m studio users add NAME``; the first
user is an admin); from then on the studio asks for a login and each writer sees only their own
collections, those shared with them and team collections (``KnowledgeBase.for_owner``, the
rules in :mod:`knowledge.access`) and their own history (``History.for_owner``). Admins also
see studio-wide status and may rebuild the index.

Sessions are rows in the database, so the command line (another process) revokes them: a new
password or a removed account ends every session of that account at its next request.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from knowledge import KnowledgeBase, Migration, NotFound, Owner, UserError, apply_migrations

_META = sa.MetaData()
USERS = sa.Table(
    "users", _META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("admin", sa.Boolean, nullable=False, server_default=sa.false()),  # accounts-0002
)
SESSIONS = sa.Table(  # accounts-0002
    "sessions", _META,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the cookie's token
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), index=True),
    sa.Column("user_name", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
# How long a login lasts.
SESSION_LIFETIME = timedelta(days=14)


def _create_accounts(conn: Connection) -> None:
    # the tables as this migration shipped them: users without the admin column, and the
    # studio's own collection grants (moved to the knowledge base by knowledge-0002)
    meta = sa.MetaData()
    sa.Table("collections", meta, autoload_with=conn)  # the knowledge base's, for the foreign key
    users = sa.Table("users", meta, *[c._copy() for c in USERS.columns if c.name != "admin"])
    access = sa.Table(
        "collection_access", meta,
        sa.Column("collection_id", sa.Integer, sa.ForeignKey("collections.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(8), nullable=False))
    meta.create_all(conn, tables=[users, access])


def _admins_and_sessions(conn: Connection) -> None:
    """Admins (the first user becomes one, so someone is) and sessions in the database; the
    collection grants now live in the knowledge base (knowledge-0002 copied them)."""
    conn.exec_driver_sql("ALTER TABLE users ADD COLUMN admin BOOLEAN NOT NULL DEFAULT FALSE")
    first = conn.execute(sa.select(sa.func.min(USERS.c.id))).scalar()
    if first is not None:
        conn.execute(sa.text("UPDATE users SET admin = TRUE WHERE id = :id"), {"id": first})
    meta = sa.MetaData()
    sa.Table("users", meta, autoload_with=conn)
    SESSIONS.to_metadata(meta).create(conn)
    conn.exec_driver_sql("DROP TABLE collection_access")


ACCOUNT_MIGRATIONS = [Migration("accounts-0001-users", _create_accounts),
                      Migration("accounts-0002-admins-and-sessions", _admins_and_sessions)]

# scrypt at n=2**14, r=8: ~50 ms and 16 MB per check, OWASP's minimum for scrypt.
_SCRYPT = dict(n=2**14, r=8, p=1)


def hash_password(password: str) -> str:
    """A salted scrypt hash, stored as ``scrypt$n$r$p$salt$hash``.

    >>> stored = hash_password("tide pools")
    >>> stored.startswith("scrypt$16384$8$1$"), verify_password("tide pools", stored)
    (True, True)
    >>> verify_password("tide pool", stored)
    False
    """
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    actual = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32,
                            n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(actual.hex(), digest)


def _check_name(name: str) -> str:
    clean = str(name or "").strip()
    if not clean or len(clean) > 100 or any(c.isspace() or c in ":/\\" or not c.isprintable() for c in clean):
        raise UserError("A user name needs 1-100 characters without spaces, ':', slashes or control characters")
    return clean


@functools.cache
def _unknown_user_hash() -> str:
    """A hash to check unknown names against, made once, so a wrong name costs one scrypt
    like a wrong password does (names cannot be told apart by timing)."""
    return hash_password(secrets.token_hex(16))


def _token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode()).hexdigest()


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    admin: bool

    @property
    def owner(self) -> Owner:
        """The account as the knowledge base knows it."""
        return Owner(self.id, self.name)


class Accounts:
    """Users, their passwords and sessions in the studio's database."""

    def __init__(self, engine: Engine):
        self.engine = engine
        apply_migrations(engine, ACCOUNT_MIGRATIONS)

    def _write(self):
        return self.engine.connect().execution_options(write=True)

    # --- users ------------------------------------------------------------------------------

    def add(self, name: str, password: str, *, admin: bool = False) -> Account:
        """Add a writer; the first one is an admin whatever ``admin`` says."""
        name = _check_name(name)
        if len(password) < 8:
            raise UserError("A password needs at least 8 characters")
        with self._write() as conn, conn.begin():
            if conn.execute(sa.select(USERS.c.id).where(USERS.c.name == name)).first():
                raise UserError(f"There is already a user called {name!r}")
            admin = admin or conn.execute(sa.select(USERS.c.id).limit(1)).first() is None
            new_id = conn.execute(USERS.insert().values(
                name=name, password_hash=hash_password(password), admin=admin,
                created_at=datetime.now(timezone.utc)).returning(USERS.c.id)).scalar_one()
        return Account(new_id, name, admin)

    def set_password(self, name: str, password: str) -> None:
        """A new password; every session of the account ends."""
        if len(password) < 8:
            raise UserError("A password needs at least 8 characters")
        with self._write() as conn, conn.begin():
            user_id = self._id(conn, name)
            conn.execute(USERS.update().where(USERS.c.id == user_id)
                         .values(password_hash=hash_password(password)))
            conn.execute(SESSIONS.delete().where(SESSIONS.c.user_id == user_id))

    def set_admin(self, name: str, admin: bool) -> None:
        with self._write() as conn, conn.begin():
            user_id = self._id(conn, name)
            if not admin and not conn.execute(sa.select(USERS.c.id).where(
                    USERS.c.admin, USERS.c.id != user_id).limit(1)).first():
                raise UserError(f"{name!r} is the only admin; make another writer an admin first")
            conn.execute(USERS.update().where(USERS.c.id == user_id).values(admin=admin))

    def remove(self, name: str) -> Account:
        """Remove an account and end its sessions (its collections and drafts are the
        caller's to move or delete first: see :func:`remove_writer`)."""
        account = self.find(name)
        if account is None:
            raise NotFound(f"There is no user called {name!r}")
        with self._write() as conn, conn.begin():
            conn.execute(SESSIONS.delete().where(SESSIONS.c.user_id == account.id))
            conn.execute(USERS.delete().where(USERS.c.id == account.id))
        return account

    @staticmethod
    def _id(conn: Connection, name: str) -> int:
        found = conn.execute(sa.select(USERS.c.id).where(USERS.c.name == str(name))).scalar()
        if found is None:
            raise NotFound(f"There is no user called {name!r}")
        return found

    def find(self, name: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(USERS.c.id, USERS.c.name, USERS.c.admin)
                               .where(USERS.c.name == str(name))).first()
        return Account(row.id, row.name, bool(row.admin)) if row else None

    def list(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(USERS.c.id, USERS.c.name, USERS.c.admin).order_by(USERS.c.name)).all()
        return [Account(r.id, r.name, bool(r.admin)) for r in rows]

    def names(self) -> list[str]:
        return [a.name for a in self.list()]

    def enabled(self) -> bool:
        """Accounts are on once any user exists."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(USERS.c.id).limit(1)).first() is not None

    def check(self, name: str, password: str) -> bool:
        """Whether ``password`` is ``name``'s (Gradio's login calls this); one scrypt either way."""
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(USERS.c.password_hash)
                                  .where(USERS.c.name == str(name))).scalar()
        matches = verify_password(str(password), stored or _unknown_user_hash())
        return matches and stored is not None

    # --- sessions ---------------------------------------------------------------------------

    def sessions(self) -> "Sessions":
        """The login sessions, as the mapping of token -> user name a Gradio app keeps."""
        return Sessions(self)


class Sessions(MutableMapping):
    """Gradio's ``app.tokens`` (login cookie token -> user name) kept in the database.

    Gradio stores a token when a login succeeds and looks the cookie up on every request; here
    a lookup also asks whether the account still exists, so a session ends when its account is
    removed or its password changes (both delete its rows), even from another process. Only a
    hash of each token is stored. Sessions of a shared ``--auth`` login (no account) hold while
    accounts are off.
    """

    def __init__(self, accounts: Accounts):
        self.accounts = accounts

    def __setitem__(self, token: str, name: str) -> None:
        account = self.accounts.find(name)
        with self.accounts._write() as conn, conn.begin():
            conn.execute(SESSIONS.delete().where(SESSIONS.c.created_at < datetime.now(timezone.utc)
                                                 - SESSION_LIFETIME))
            conn.execute(SESSIONS.insert().values(token_hash=_token_hash(token), user_name=str(name),
                                                  user_id=account.id if account else None,
                                                  created_at=datetime.now(timezone.utc)))

    def __getitem__(self, token: str) -> str:
        if not token:
            raise KeyError(token)
        with self.accounts.engine.connect() as conn:
            row = conn.execute(sa.select(SESSIONS.c.user_id, SESSIONS.c.user_name, SESSIONS.c.created_at)
                               .where(SESSIONS.c.token_hash == _token_hash(token))).first()
            shared_login = row is not None and row.user_id is None
            if shared_login and conn.execute(sa.select(USERS.c.id).limit(1)).first():
                row = None  # accounts were turned on: the shared login no longer lets anyone in
        if row is None or _aware(row.created_at) < datetime.now(timezone.utc) - SESSION_LIFETIME:
            raise KeyError(token)
        return row.user_name

    def __delitem__(self, token: str) -> None:
        with self.accounts._write() as conn, conn.begin():
            conn.execute(SESSIONS.delete().where(SESSIONS.c.token_hash == _token_hash(token)))

    def __iter__(self) -> Iterator[str]:
        return iter(())  # tokens are not stored, only their hashes

    def __len__(self) -> int:
        with self.accounts.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(SESSIONS)).scalar_one()

    def end_all(self, name: str) -> None:
        """Log ``name`` out everywhere (Gradio's "log out of all sessions")."""
        with self.accounts._write() as conn, conn.begin():
            conn.execute(SESSIONS.delete().where(SESSIONS.c.user_name == str(name)))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite drops the zone


def remove_writer(accounts: Accounts, kb: KnowledgeBase, history, name: str, *,
                  give_to: str | None = None) -> Account:
    """Remove the account ``name``; its collections and drafts go to the writer ``give_to`` or,
    without one, are deleted (never silently to the team). The material moves first, so a
    process killed midway leaves the account in place to remove again."""
    account = accounts.find(name)
    if account is None:
        raise NotFound(f"There is no user called {name!r}")
    heir = accounts.find(give_to) if give_to else None
    if give_to and (heir is None or heir.id == account.id):
        raise UserError(f"Give {name!r}'s material to another existing writer, not {give_to!r}")
    kb.forget_owner(account.id, give_to=heir.owner if heir else None)
    history.forget_owner(account.id, give_to=heir.owner if heir else None)
    return accounts.remove(name)
