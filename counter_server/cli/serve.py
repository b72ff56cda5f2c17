"""``motcua serve``: the server (uvicorn, the Flask app in a thread pool, the event
streams on the event loop), its log file and, on SQLite, the daily backups."""
from __future__ import annotations

import errno
import gc
import logging
import sys

import click

from ..i18n import _
from .base import CONTEXT, backup_settings, db_url, fail, instance_folder, main, sqlite_path, upgrade

log = logging.getLogger("motcua.serve")


@main.command("serve", context_settings=CONTEXT,
              help=_("Run the server (uvicorn). On SQLite it also takes the daily backups."))
@click.option("--host", default="127.0.0.1",
              help=_("Address to listen on; 0.0.0.0 lets kiosks, displays and other PCs reach it."))
@click.option("--port", default=8080, type=click.IntRange(1, 65535), help=_("Port to listen on."))
@click.option("--threads", default=16, type=click.IntRange(1, 1000),
              help=_("Threads for the app's requests (event streams need none)."))
@click.option("--workers", default=1, type=click.IntRange(1, 64),
              help=_("Server processes (Linux, PostgreSQL only)."))
@click.pass_obj
def serve_cmd(obj: dict, host: str, port: int, threads: int, workers: int) -> None:
    from .. import http_server, logs
    from ..app import create_app
    from ..backup import BackupScheduler
    from ..db import Database
    from ..idle_counters import IdleCounterWatch
    from ..notify_sms import SmsWatch

    log_file = logs.setup(instance_folder(obj), "server", obj.get("verbose", False))
    db_file = sqlite_path(db_url(obj))
    if workers > 1 and sys.platform == "win32":
        fail("--workers above 1 runs on Linux only; on Windows run one process.")
    if workers > 1 and db_file is not None:
        fail("Another server process is not possible on SQLite: --workers above 1 needs "
             "PostgreSQL.")
    upgrade(obj)
    app = create_app({"INSTANCE_DIR": obj["instance"]} if obj["instance"] else None)
    try:
        sock = http_server.listen(host, port)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            fail("Port {port} on {host} is already in use (is motcua already running?); "
                 "choose another with --port.", port=port, host=host)
        fail("Cannot listen on {host}:{port}: {detail}", host=host, port=port,
             detail=exc.strerror or exc)
    # The backups and the idle-counter watch run once, in this process (with
    # --workers it is the supervisor; the workers only serve).
    scheduler = None
    if db_file is not None:
        scheduler = BackupScheduler(db_file, backup_settings(obj)).start()
    watch_db = app.extensions["motcua_db"] if workers == 1 else Database(app.config["DATABASE_URL"],
                                                                         pool_size=2)
    idle = IdleCounterWatch(watch_db).start()
    sms = SmsWatch(watch_db).start()  # sends only if an office enabled a gateway

    def started() -> None:
        click.echo(_("motcua is serving on http://{host}:{port}").format(host=host, port=port))
        click.echo(_("Log file: {file}").format(file=log_file))
        log.info("serving on http://%s:%s (%d process%s)", host, port, workers,
                 "es" if workers > 1 else "")

    # The app, its models and the libraries live as long as the process: keep
    # them out of the garbage collector's full passes (pauses under load).
    gc.collect()
    gc.freeze()
    try:
        if workers == 1:
            http_server.serve(app, sock, threads, started)
        else:
            app.extensions["motcua_db"].dispose()
            http_server.serve_workers(obj["instance"], sock, threads, workers, started)
        click.echo(_("motcua stopped."))
    except KeyboardInterrupt:
        click.echo(_("motcua stopped."))
    finally:
        idle.stop()
        sms.stop()
        if scheduler is not None:
            scheduler.stop()
        sock.close()
