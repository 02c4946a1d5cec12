"""Command line for the studio's accounts.

    python -m studio users add NAME [--admin]   (asks for the password twice)
    python -m studio users add NAME --password-stdin
    python -m studio users password NAME        (set a new password; ends NAME's sessions)
    python -m studio users admin NAME on|off    (admins see studio-wide status, rebuild the index)
    python -m studio users remove NAME --give-to OTHER   (OTHER gets NAME's collections and drafts)
    python -m studio users remove NAME --delete          (NAME's collections and drafts are deleted)
    python -m studio users list

Adding the first user turns accounts on, also in a studio that is running (its next request asks
for a login); the first user is an admin. Each writer then sees only their own and shared
material. Settings come from ``INKSTONE_*`` variables (``INKSTONE_DATA_DIR``,
``INKSTONE_DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from knowledge import KnowledgeBase, KnowledgeSettings, UserError
from studio.accounts import Accounts, remove_writer
from studio.history import History


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
        if command == "add":
            sub.add_argument("--admin", action="store_true", help="may see studio-wide status")
    admin = users.add_parser("admin")
    admin.add_argument("name")
    admin.add_argument("state", choices=("on", "off"))
    remove = users.add_parser("remove")
    remove.add_argument("name")
    heir = remove.add_mutually_exclusive_group(required=True)
    heir.add_argument("--give-to", metavar="OTHER", help="the writer who gets NAME's collections and drafts")
    heir.add_argument("--delete", action="store_true", help="delete NAME's collections and drafts")
    users.add_parser("list")
    args = parser.parse_args(argv)

    try:
        kb = KnowledgeBase.open(KnowledgeSettings.from_env(), check_model=False)
        accounts = Accounts(kb.engine)
        if args.command == "add":
            account = accounts.add(args.name, _password(args), admin=args.admin)
            print(f"added {account.name}{' (admin)' if account.admin else ''}; the studio now asks for a login")
        elif args.command == "password":
            accounts.set_password(args.name, _password(args))
            print(f"new password set for {args.name}; their sessions have ended")
        elif args.command == "admin":
            accounts.set_admin(args.name, args.state == "on")
            print(f"{args.name} is {'now' if args.state == 'on' else 'no longer'} an admin")
        elif args.command == "remove":
            remove_writer(accounts, kb, History(kb.engine), args.name, give_to=args.give_to)
            print(f"removed {args.name}; " + (f"{args.give_to} has their collections and drafts"
                                                if args.give_to else "their collections and drafts are deleted"))
        else:
            listed = accounts.list()
            print("\n".join(a.name + (" (admin)" if a.admin else "") for a in listed) if listed
                  else "No users: accounts are off (anyone who can reach the studio can use it).")
        kb.close()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
