"""Start Inkstone: read settings, build the objects, wire them, launch the UI.

    python app.py [--host 127.0.0.1] [--port 7860] [--auth user:password]

Nothing here runs at import time; ``make run`` calls this with the embedded default models.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Inkstone writing studio")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1, $INKSTONE_HOST)")
    parser.add_argument("--port", type=int, help="port (default 7860, $INKSTONE_PORT)")
    parser.add_argument("--auth", help="user:password to require a login ($INKSTONE_AUTH)")
    return parser.parse_args(argv)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=os.environ.get("INKSTONE_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from studio.build import build_studio
    from studio.settings import Settings
    from studio.ui import build_demo, launch

    args = parse_args(argv)
    settings = Settings.from_env(host=args.host, port=args.port, auth=args.auth)
    studio = build_studio(settings)
    # with accounts, writers log in as themselves (studio.ui.launch); else one shared login
    auth = tuple(settings.auth.split(":", 1)) if settings.auth else None
    if studio.accounts.enabled() and auth:
        logging.getLogger("inkstone").warning("--auth is ignored: this studio has accounts")
    if not _is_loopback(settings.host) and not (auth or studio.accounts.enabled()):
        raise SystemExit(f"Refusing to serve on {settings.host} without a login: add accounts "
                         "(python -m studio users add NAME) or pass --auth user:password.")
    demo = build_demo(studio)
    launch(demo, studio, host=settings.host, port=settings.port, auth=auth)


if __name__ == "__main__":
    main()
