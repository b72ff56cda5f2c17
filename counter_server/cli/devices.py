"""Kiosks, displays and rating tablets: ``device add | list | revoke``."""
from __future__ import annotations

import click
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .. import models as m
from ..i18n import _
from .accounts import _audit
from .base import CONTEXT, database, fail, main, office_of


@main.group("device", context_settings=CONTEXT, help=_("Kiosks, displays and rating tablets."))
def device_grp() -> None:
    pass


@device_grp.command("add", context_settings=CONTEXT,
                    help=_("Register a device; prints its token once (give it to the kiosk, "
                           "display or tablet with --token)."))
@click.argument("name")
@click.option("--kind", type=click.Choice(m.DEVICE_KINDS), required=True,
              help=_("kiosk: lobby ticket kiosk; display: lobby TV; rating: counter tablet."))
@click.option("--counter", "counter_number", type=int, default=None,
              help=_("Counter number the rating tablet stands at (rating tablets only)."))
@click.pass_obj
def device_add(obj: dict, name: str, kind: str, counter_number: int | None) -> None:
    from ..seed import add_device

    db = database(obj)
    try:
        with db.write() as s:
            office = office_of(s)
            counter_id = None
            if kind == "rating":
                if counter_number is None:
                    fail("A rating tablet needs --counter.")
                c = s.scalar(select(m.Counter).where(m.Counter.office_id == office.id,
                                                     m.Counter.number == counter_number))
                if c is None:
                    numbers = [str(n) for n in s.scalars(select(m.Counter.number).where(
                        m.Counter.office_id == office.id).order_by(m.Counter.number))]
                    if numbers:
                        fail("Counter {number} not found (counters: {numbers}).",
                             number=counter_number, numbers=", ".join(numbers))
                    fail("Counter {number} not found: create the counters first "
                         "(admin pages → Counters, or the set-up checklist).", number=counter_number)
                counter_id = c.id
            elif counter_number is not None:
                fail("--counter is only for rating tablets.")
            device, token = add_device(s, office.id, name, kind, counter_id)
            _audit(s, office.id, "device_created", device_id=device.id, name=name, kind=kind)
        click.echo(_("Device token (shown once):"))
        click.echo(token)
    finally:
        db.dispose()


@device_grp.command("list", context_settings=CONTEXT, help=_("List the devices."))
@click.option("--all", "show_all", is_flag=True, help=_("Also revoked devices."))
@click.pass_obj
def device_list(obj: dict, show_all: bool) -> None:
    from ..engine import local_time

    db = database(obj)
    try:
        with db.read() as s:
            office = office_of(s)
            q = select(m.Device, m.Counter.number).outerjoin(
                m.Counter, m.Counter.id == m.Device.counter_id).where(
                m.Device.office_id == office.id).order_by(m.Device.id)
            if not show_all:
                q = q.where(m.Device.revoked.is_(False))
            rows = s.execute(q).all()
            click.echo(f"{'id':>4} {_('Kind'):8} {_('Counter'):6} {_('Last seen'):17} "
                       f"{_('State'):10} {_('Name')}")
            for d, number in rows:
                seen = local_time(office, d.last_seen).strftime("%d/%m/%Y %H:%M") if d.last_seen else "-"
                state = _("revoked") if d.revoked else d.status
                if d.last_error and not d.revoked:
                    state += f" ({d.last_error[:60]})"
                click.echo(f"{d.id:>4} {d.kind:8} {number or '':6} {seen:17} {state:10} {d.name}")
            if not rows:
                click.echo(_("No devices yet: motcua device add NAME --kind kiosk"))
    finally:
        db.dispose()


def _device(s: Session, office_id: int, name_or_id: str) -> m.Device:
    where = [m.Device.name == name_or_id]
    if name_or_id.isdigit():
        where.append(m.Device.id == int(name_or_id))
    found = list(s.scalars(select(m.Device).where(
        m.Device.office_id == office_id, m.Device.revoked.is_(False), or_(*where))))
    if not found:
        fail("No device named or numbered {device}.", device=name_or_id)
    if len(found) > 1:
        fail("Several devices match {device}: give the id (motcua device list).", device=name_or_id)
    return found[0]


@device_grp.command("revoke", context_settings=CONTEXT,
                    help=_("Revoke a device's token (by name or id); the device is refused at once."))
@click.argument("name_or_id")
@click.pass_obj
def device_revoke(obj: dict, name_or_id: str) -> None:
    db = database(obj)
    try:
        with db.write() as s:
            d = _device(s, office_of(s).id, name_or_id)
            d.revoked = True
            _audit(s, d.office_id, "device_revoked", device_id=d.id, name=d.name, kind=d.kind)
            click.echo(_("Device {name} (id {id}) revoked.").format(name=d.name, id=d.id))
    finally:
        db.dispose()
