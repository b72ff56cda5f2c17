"""The kiosk stores a citizen's phone number for the optional SMS/Zalo message
(counter_server/notify_sms.py): today's waiting tickets only, one number a ticket."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .. import engine as e, models as m
from ..defaults import office_settings
from ..notify_sms import masked, phone_number
from ..security import auth, current_principal
from . import bp, errors, run_write
from .schemas import ContactIn, ContactOut


@bp.put("/tickets/<ticket_code:code>/contact")
@bp.auth_required(auth, roles=["kiosk"])
@bp.input(ContactIn)
@bp.output(ContactOut)
@bp.doc(summary="Kiosk: a phone number for the ticket's SMS/Zalo message (when the office "
                "has a gateway); kept until the end of the service day",
        responses=errors(401, 403, 404, 409, 413, 422))
def ticket_contact(code: str, json_data: dict[str, Any]):
    p = current_principal()
    phone = phone_number(json_data["phone"])
    if phone is None:
        raise e.DomainError("bad_phone", "Please type a mobile number of 10 digits, "
                                         "e.g. 0912345678.", 422)

    def work(s: Any) -> dict[str, Any]:
        t = s.scalar(select(m.Ticket).where(m.Ticket.code == code,
                                            m.Ticket.office_id == p.office_id))
        if t is None:
            raise e.not_found("ticket")
        office = s.get(m.Office, p.office_id)
        st = office_settings(office.settings)
        if not (st["sms_enabled"] and st["sms_webhook_url"]):
            raise e.DomainError("sms_off", "This office does not send messages to phones.")
        if t.status != m.WAITING or t.service_day != e.service_day(office, e.utcnow()):
            raise e.DomainError("ticket_not_waiting",
                                "Messages can only be set up for a ticket that is waiting.")
        contact = s.scalar(select(m.TicketContact).where(m.TicketContact.ticket_id == t.id))
        if contact is None:
            s.add(m.TicketContact(office_id=t.office_id, ticket_id=t.id,
                                  service_day=t.service_day, phone=phone, last_error=""))
        else:
            contact.phone = phone
        return {"display_number": t.display_number, "phone": masked(phone)}

    return run_write(work)
