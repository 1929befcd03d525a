"""What every `kunlun-nlp` command module shares: where the data is, who acts, the settings."""

from __future__ import annotations

import argparse
import getpass

from kunlun_nlp.config import Settings


def data_dir_option() -> argparse.ArgumentParser:
    """A parent parser: --data-dir."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--data-dir", help="the service's data folder (env KUNLUN_DATA_DIR; default ./kunlun-data)")
    return parent


def location_options() -> argparse.ArgumentParser:
    """A parent parser: --data-dir and --engine-url, where the index lives."""
    parent = argparse.ArgumentParser(add_help=False, parents=[data_dir_option()])
    parent.add_argument("--engine-url", help="search engine URL; given, the engine is used (env KUNLUN_ENGINE_URL)")
    return parent


def by_option() -> argparse.ArgumentParser:
    """A parent parser: --by, who acts, for the record."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--by", metavar="NAME", help="who does it, for the record (default: the operating-system user)")
    return parent


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings.from_env(data_dir=args.data_dir, engine_url=getattr(args, "engine_url", None))


def service_of(args: argparse.Namespace):
    from kunlun_nlp.service import KunlunService  # models and indexes: only for the commands that use them

    return KunlunService(settings_of(args))


def by_of(args: argparse.Namespace) -> str:
    """--by, else the operating-system user ("cli" where the system knows no user name)."""
    given = (getattr(args, "by", None) or "").strip()
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a bare container
        return "cli"
