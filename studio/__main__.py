"""Command line for the studio's accounts.

    python -m studio users add NAME        (asks for the password twice)
    python -m studio users add NAME --password-stdin
    python -m studio users password NAME   (set a new password)
    python -m studio users remove NAME     (their collections become team collections)
    python -m studio users list

Adding the first user turns accounts on: the studio then asks for a login and each writer sees
only their own and shared material. Settings come from ``INKSTONE_*`` variables
(``INKSTONE_DATA_DIR``, ``INKSTONE_DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from knowledge import KnowledgeBase, KnowledgeSettings, UserError
from studio.accounts import Accounts


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"Password for {args.name}: ")
    if getpass.getpass("Again: ") != first:
        raise UserError("The two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studio", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="area", required=True)
    users = commands.add_parser("users", help="writers' accounts").add_subparsers(dest="command", required=True)
    for command in ("add", "password"):
        sub = users.add_parser(command)
        sub.add_argument("name")
        sub.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    users.add_parser("remove").add_argument("name")
    users.add_parser("list")
    args = parser.parse_args(argv)

    try:
        kb = KnowledgeBase.open(KnowledgeSettings.from_env(), check_model=False)
        accounts = Accounts(kb.engine)
        if args.command == "add":
            accounts.add(args.name, _password(args))
            print(f"added {args.name}; the studio now asks for a login")
        elif args.command == "password":
            accounts.set_password(args.name, _password(args))
            print(f"new password set for {args.name}")
        elif args.command == "remove":
            accounts.remove(args.name)
            print(f"removed {args.name}; their collections are now team collections")
        else:
            names = accounts.names()
            print("\n".join(names) if names else "No users: accounts are off (anyone who can reach the studio can use it).")
        kb.close()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
