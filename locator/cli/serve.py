"""``locator serve``: the app under gunicorn, loaded once and forked (``locator.cli.gunicorn_hooks``)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from locator.cli.common import CliError, config
from locator.errors import LocatorError
from locator.storage import Register, Settings, store_errors

__all__ = ["check_register", "serve"]


def check_register() -> None:
    """Fail fast, with one line, on bad data or config, and seed an empty register once; load nothing.

    gunicorn's master loads the register afterwards, once. A register that
    does not answer is only a warning: each process then starts from its
    local snapshot, ``degraded`` (or ``not_ready``), and catches up when the
    register is back; an outage must not keep an instance down.
    """
    cfg = config()
    instance = Path(cfg.root_path)
    try:
        instance.mkdir(parents=True, exist_ok=True)  # the default SQLite register lives in the instance folder
        settings = Settings.from_mapping(cfg, instance)
        Register.check(settings)
    except (LocatorError, OSError) as exc:
        raise CliError(str(exc)) from None
    try:
        settings.open_store().close()  # migrates, and seeds an empty register once
    except Exception as exc:
        if not isinstance(exc, (LocatorError, OSError, *store_errors())):
            raise
        click.echo(f"warning: the register does not answer ({exc}); serving the local snapshot until it does", err=True)


@click.command()
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1 or $HOST")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=lambda: int(os.environ.get("PORT", "5000")),
    show_default="5000 or $PORT",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=lambda: int(os.environ.get("WEB_WORKERS", "2")),
    show_default="2 or $WEB_WORKERS",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=lambda: int(os.environ.get("WEB_THREADS", "4")),
    show_default="4 or $WEB_THREADS",
)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the map and API under gunicorn (a production WSGI server)."""
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if gunicorn is None:
        raise CliError("gunicorn is not installed; run 'make serve' or pip install gunicorn")
    check_register()
    argv = [
        gunicorn,
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        # Threads take a request only once its headers are in: slow clients cost a socket, not a thread.
        "--worker-class",
        "locator.web.worker.HeaderBufferingWorker",
        # Load the register and build the index once in the master; the workers share it (see the module).
        "--config",
        "python:locator.cli.gunicorn_hooks",
        # No gunicorn access log: the app writes its own JSON-lines one (locator/web/http.py).
        "locator:create_app()",
    ]
    click.echo(f"serving on http://{host}:{port}/ with {workers} workers × {threads} threads", err=True)
    os.execv(gunicorn, argv)
