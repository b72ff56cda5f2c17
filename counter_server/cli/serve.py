"""``motcua serve``: the server (waitress), its log file and, on SQLite, the
daily backups."""
from __future__ import annotations

import errno
import gc
import logging

import click

from ..i18n import _
from .base import CONTEXT, backup_settings, db_url, fail, instance_folder, main, sqlite_path, upgrade

log = logging.getLogger("motcua.serve")


@main.command("serve", context_settings=CONTEXT,
              help=_("Run the server (waitress). On SQLite it also takes the daily backups."))
@click.option("--host", default="127.0.0.1",
              help=_("Address to listen on; 0.0.0.0 lets kiosks, displays and other PCs reach it."))
@click.option("--port", default=8080, type=click.IntRange(1, 65535), help=_("Port to listen on."))
@click.option("--threads", default=48, type=click.IntRange(1, 1000),
              help=_("One per open event stream (displays, consoles) plus headroom."))
@click.pass_obj
def serve_cmd(obj: dict, host: str, port: int, threads: int) -> None:
    from .. import http_server, logs
    from ..app import create_app
    from ..backup import BackupScheduler
    from ..idle_counters import IdleCounterWatch
    from ..notify_sms import SmsWatch

    log_file = logs.setup(instance_folder(obj), "server", obj.get("verbose", False))
    upgrade(obj)
    app = create_app({"INSTANCE_DIR": obj["instance"]} if obj["instance"] else None)
    try:
        server = http_server.make_server(
            app, host=host, port=port, threads=threads, ident="motcua", channel_timeout=120,
            connection_limit=400, clear_untrusted_proxy_headers=True)
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            fail("Port {port} on {host} is already in use (is motcua already running?); "
                 "choose another with --port.", port=port, host=host)
        fail("Cannot listen on {host}:{port}: {detail}", host=host, port=port,
             detail=exc.strerror or exc)
    scheduler = None
    db_file = sqlite_path(db_url(obj))
    if db_file is not None:
        scheduler = BackupScheduler(db_file, backup_settings(obj)).start()
    idle = IdleCounterWatch(app.extensions["motcua_db"]).start()
    sms = SmsWatch(app.extensions["motcua_db"]).start()  # sends only if an office enabled it
    click.echo(_("motcua is serving on http://{host}:{port}").format(host=host, port=port))
    click.echo(_("Log file: {file}").format(file=log_file))
    log.info("serving on http://%s:%s", host, port)
    # The app, its models and the libraries live as long as the process: keep
    # them out of the garbage collector's full passes (pauses under load).
    gc.collect()
    gc.freeze()
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo(_("motcua stopped."))
    finally:
        idle.stop()
        sms.stop()
        if scheduler is not None:
            scheduler.stop()
        server.close()
