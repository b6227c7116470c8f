"""``locator serve``: the app under gunicorn, loaded once and forked (``locator.cli.gunicorn_hooks``)."""

from __future__ import annotations

import os
import shutil
import sys

import click

from locator.cli.common import CliError, open_register

__all__ = ["serve"]


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
    try:
        open_register().close()  # fail fast, with one line, on bad data or config (and seed the register once)
    except CliError as exc:
        if "cannot open the register" not in exc.message:
            raise
        # The register does not answer: start anyway; each process serves its local snapshot, degraded
        # (or answers not_ready), and catches up when it is back. An outage must not keep an instance down.
        click.echo(f"warning: {exc.message}; starting from the local snapshot", err=True)
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
