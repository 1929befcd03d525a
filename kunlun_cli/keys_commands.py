"""`kunlun-nlp keys create|list|revoke`: the API's keys, managed on the server itself. The CLI acts
locally on the data folder, so it needs no key: it is how the first admin key is made."""

from __future__ import annotations

import argparse
import sys

from kunlun_cli.options import data_dir_option, settings_of
from kunlun_nlp.keys import ROLES, KeyStore, KeyStoreError

EXIT_OK, EXIT_USAGE = 0, 2


def add_commands(subparsers) -> None:
    data = data_dir_option()

    keys = subparsers.add_parser("keys", help="API keys: create, list, revoke (acts locally, needs no key)")
    commands = keys.add_subparsers(dest="keys_command", required=True)

    create = commands.add_parser(
        "create", parents=[data], help="create a key; it is printed once",
        description="Create an API key. The key goes to standard output, alone (KEY=$(kunlun-nlp keys create ...)); "
        "how to use it goes to standard error. Only its hash is stored: it cannot be shown again.",
    )
    create.add_argument("--role", required=True, choices=ROLES,
                        help="reader: search and read; intake: also ingest and tag; trainer: also corrections, labels, "
                        "training, promotion and reviews; admin: everything, and the keys")
    create.add_argument("--name", required=True, help="who holds it: what its writes record (never reused)")
    create.set_defaults(run=run_create)

    listing = commands.add_parser("list", parents=[data], help="list the keys (names, roles, dates; never the keys)")
    listing.set_defaults(run=run_list)

    revoke = commands.add_parser("revoke", parents=[data], help="revoke a key by name: refused from its next request on")
    revoke.add_argument("name", metavar="NAME")
    revoke.set_defaults(run=run_revoke)


def _store(args: argparse.Namespace) -> KeyStore:
    return KeyStore(settings_of(args).keys_path)


def run_create(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        token = store.create(args.name, args.role)
    except KeyStoreError as exc:
        print(f"kunlun-nlp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    print(token)
    print(
        f"Created the {args.role} key {args.name!r}. It is shown this once (only its hash is kept); send it as\n"
        f"  Authorization: Bearer {token}\n"
        f"e.g. curl -H 'Authorization: Bearer {token}' 'http://127.0.0.1:8000/search?q=seized'",
        file=sys.stderr,
    )
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        records = store.list()
    finally:
        store.close()
    if not records:
        print("no keys yet: create the first with `kunlun-nlp keys create --role admin --name NAME`")
        return EXIT_OK
    width = max(len(r.name) for r in records)
    for record in records:
        state = f"revoked {record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "active"
        print(f"{record.name:<{width}}  {record.role:<7}  created {record.created_at:%Y-%m-%d %H:%M} UTC  {state}")
    return EXIT_OK


def run_revoke(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        record = store.revoke(args.name)
    except KeyStoreError as exc:
        print(f"kunlun-nlp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    print(f"revoked the {record.role} key {record.name!r}: it is refused from its next request on")
    return EXIT_OK
