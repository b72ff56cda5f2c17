"""The lobby kiosk in ticket mode: the Kivy App that ties screens and workers together.

Import only after :func:`kiosk.app.configure_kivy` (window size and full
screen must be set before Kivy opens its window).  State lives in Kivy
properties that the .kv files bind to; every network or printer call runs
in the workers of :mod:`kiosk.live` and comes back through ``mainthread``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import time
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.graphics.texture import Texture
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import (BooleanProperty, ListProperty, NumericProperty, ObjectProperty,
                             OptionProperty, StringProperty)
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.utils import get_color_from_hex

from counter_server.client import ApiClient, ApiError
from display.voice import Speaker, Voice
from display.voice.player import KivySoundPlayer
from kiosk import speech, strings
from kiosk.icons import icon_path
from kiosk.live import UNREACHABLE, PrinterState, PrintSupervisor, ServerLink, TicketIssuer
from PIL.Image import FLIP_TOP_BOTTOM

from kiosk.printing import TicketData, make_printer, qr_image
from kiosk.reprint import Reprinter
from kiosk.rating_queue import data_dir
from kiosk.strings import _
from kiosk.widgets import (BigButton, ClosedScreen, HomeScreen, PriorityScreen, ServiceButton,
                           TicketScreen)

log = logging.getLogger(__name__)
KV_DIR = Path(__file__).resolve().parent
KV_FILES = ("kiosk.kv", "home.kv", "ticket.kv")
#: In the data folder: the office's time zone, for the clock before the server answers.
ZONE_FILE = "office.json"


class LobbyKioskApp(App):
    """Ticket mode: pick a service (and a priority class), get a number, take the ticket."""

    online = BooleanProperty(False)
    retrying = BooleanProperty(False)
    services_loaded = BooleanProperty(False)
    office_name = StringProperty("")
    office_open = BooleanProperty(True)
    #: Why the office is closed ("Đang nghỉ trưa.") and when it opens again.
    closed_title = StringProperty("")
    closed_next = StringProperty("")
    #: Why the server cannot be used ("" when it can): live.UNREACHABLE / live.NOT_REGISTERED.
    problem = StringProperty("")
    #: The server answered but no service can take tickets here (none, or none with a counter).
    no_services = BooleanProperty(False)
    hours_text = StringProperty("")
    notice = StringProperty("")
    message = StringProperty("")
    clock_text = StringProperty("")
    date_text = StringProperty("")
    priority_step = BooleanProperty(False)
    issuing = BooleanProperty(False)
    rating_available = BooleanProperty(False)
    services = ListProperty([])
    selected_name = StringProperty("")
    printer_ok = BooleanProperty(True)
    printer_message = StringProperty("")
    ticket_number = StringProperty("")
    ticket_service = StringProperty("")
    ticket_ahead_text = StringProperty("")
    ticket_wait_text = StringProperty("")
    ticket_priority_text = StringProperty("")
    print_state = OptionProperty("idle", options=["idle", "printing", "printed", "failed"])
    print_text = StringProperty("")
    qr_texture = ObjectProperty(None, allownone=True)
    #: 1/100 of the window's short side: the unit every size in the .kv files uses.
    u = NumericProperty(6.0)
    #: Milliseconds from the last tap to its number on screen (benchmark and logs).
    last_tap_ms = NumericProperty(0.0)
    #: The speaker button: read aloud what is touched (first touch reads, second confirms).
    speech_on = BooleanProperty(False)
    #: The service or priority group read by a first touch, waiting for its second ("" none).
    armed_text = StringProperty("")
    #: The counters of the ticket on screen, for the pictogram row ("Quầy 3").
    ticket_counters_text = StringProperty("")

    def __init__(self, args: argparse.Namespace, printer_settings: dict[str, Any], **kw: Any) -> None:
        super().__init__(**kw)
        self.args = args
        self.title = "Một Cửa – Kiosk"
        self.server_url = args.server.rstrip("/")
        #: Where phones open the ticket's QR: the office's "address phones use", else ours.
        self.public_url = self.server_url
        self.wifi_hint = ""
        self.client = ApiClient(self.server_url, args.token)
        self.printer = make_printer(printer_settings)
        self.ticket: dict[str, Any] = {}
        self._selected: dict[str, Any] = {}
        self._buttons: dict[int, ServiceButton] = {}
        self._local_time: str | None = None
        self._local_time_at = 0.0
        self._zone_file = data_dir(getattr(args, "data_dir", None), self.user_data_dir) / ZONE_FILE
        self._zone = self._remembered_zone()
        self._home_timer: Any = None
        self._message_timer: Any = None
        self._tap_started = 0.0
        self._services_later: dict[str, Any] | None = None
        self._office: dict[str, Any] = {}
        self._speech_default: bool | None = None  # the office's, once known
        self.speaker: Speaker | None = None  # made when speech is first turned on
        #: The voice engine failed (e.g. espeak-ng missing): the office's default no longer
        #: turns speech on for each citizen; the speaker button tries again.
        self.voice_failed = False
        self.touches = speech.TwoTouch()
        self._disarm_timer: Any = None
        self.reprinter = Reprinter(self.client, mainthread(self._reprint))
        self.link = ServerLink(self.client, mainthread(self._apply_services),
                               mainthread(self._set_online), refresh_seconds=args.refresh_seconds,
                               on_event=self.reprinter.on_event)
        self.issuer = TicketIssuer(self.client)
        self.printing = PrintSupervisor(self.printer, self.client, mainthread(self._printer_state),
                                        check_seconds=args.printer_check_seconds)

    # ------------------------------------------------------------------ helpers for .kv
    def tr(self, message: str) -> str:
        return _(message)

    def icon_file(self, name: str) -> str:
        return icon_path(name)

    # ------------------------------------------------------------------ build
    def build(self) -> ScreenManager:
        for name in KV_FILES:
            Builder.load_file(str(KV_DIR / name))
        sm = ScreenManager(transition=NoTransition())  # instant: no taps lost mid-fade
        for screen in (HomeScreen(name="home"), PriorityScreen(name="priority"),
                       TicketScreen(name="ticket"), ClosedScreen(name="closed")):
            sm.add_widget(screen)
        self._build_priority_choices(sm.get_screen("priority"))
        try:
            from kiosk.lobby_rating import add_lobby_rating_screens
        except ImportError:
            log.info("lobby rating screens not installed")
        else:
            try:
                add_lobby_rating_screens(sm, self)
            except Exception:  # noqa: BLE001 - rating must never take the ticket kiosk down
                log.exception("could not add the lobby rating screens")
        self.rating_available = sm.has_screen("rate_entry")
        from kiosk.procedure_screens import add_procedure_screens

        add_procedure_screens(sm, self)  # "Thủ tục cần giấy tờ gì?"
        from kiosk.sms_screen import add_sms_screen

        add_sms_screen(sm, self)  # optional "text me when my turn is near"
        Window.bind(size=self._on_window_size)
        self._on_window_size(Window, Window.size)
        self.clock_text, self.date_text = "--:--", ""
        Clock.schedule_interval(self._tick, 1.0)
        self.link.start()
        self.printing.start()
        return sm

    def _build_priority_choices(self, screen: PriorityScreen) -> None:
        grid = screen.ids.choices
        normal = BigButton(text=_("No priority"), icon=icon_path("normal"), value="",
                           colour=get_color_from_hex("#1565c0"))
        normal.bind(on_release=lambda b: self.choose_priority(b.value))
        grid.add_widget(normal)
        for value, icon, label in strings.PRIORITY_CHOICES:
            button = BigButton(text=_(label), icon=icon_path(icon), value=value,
                               colour=get_color_from_hex("#6a1b9a"))
            button.bind(on_release=lambda b: self.choose_priority(b.value))
            grid.add_widget(button)

    def on_stop(self) -> None:
        self.link.stop()
        self.printing.stop()
        if self.speaker is not None:
            self.speaker.stop()

    def _on_window_size(self, _window: Any, size: tuple[int, int]) -> None:
        width, height = size
        self.u = min(width, height) / 100.0
        self._layout_grid()

    def _layout_grid(self) -> None:
        if not self.root:
            return
        grid = self.root.get_screen("home").ids.grid
        n = max(1, len(self._buttons))
        width, height = Window.size
        grid.cols = (3 if n > 4 else 2) if width > height * 1.2 else (1 if n <= 3 else 2)

    def _remembered_zone(self) -> str:
        try:
            return json.loads(self._zone_file.read_text(encoding="utf-8")).get("timezone") or ""
        except (OSError, ValueError, AttributeError):
            return ""

    def _remember_zone(self, zone: str) -> None:
        """The office's zone, kept for the next start before the server answers."""
        if zone and zone != self._zone:
            self._zone = zone
            try:
                tmp = self._zone_file.with_suffix(".tmp")
                tmp.write_text(json.dumps({"timezone": zone}), encoding="utf-8")
                tmp.replace(self._zone_file)
            except OSError:
                log.warning("could not remember the office's time zone in %s", self._zone_file)

    def office_now(self) -> dt.datetime:
        return strings.office_clock(self._local_time, self._local_time_at, time.monotonic(),
                                    self._zone)

    def _tick(self, _dt: float = 0) -> None:
        now = self.office_now()
        self.clock_text = now.strftime("%H:%M")
        self.date_text = strings.date_text(now)

    # ------------------------------------------------------------------ server state
    def _set_online(self, online: bool, problem: str = "") -> None:
        self.online = online
        self.problem = "" if online else (problem or UNREACHABLE)
        self._update_buttons()

    def _apply_services(self, data: dict[str, Any]) -> None:
        if self.root is not None and (self.issuing or self.root.current == "ticket"):
            # A ticket is on its way or on screen: re-rendering the hidden home
            # screen's texts now would only slow down the ticket frame.
            # Applied when the citizen goes back.
            self._services_later = data
            return
        self._services_later = None
        office = data.get("office", {})
        self._local_time, self._local_time_at = office.get("local_time"), time.monotonic()
        self._remember_zone(office.get("timezone") or "")
        self._tick()
        now = self.office_now()
        self.office_name = office.get("name", "")
        self.public_url = (office.get("public_url") or self.server_url).rstrip("/")
        self.wifi_hint = office.get("wifi_hint") or ""
        self.sms_offer.office_changed(office)
        self.notice = office.get("notice", "") or ""
        self.hours_text = "\n".join(strings.format_hours(office.get("opening_hours")))
        if self.args.priority_step == "server":
            self.priority_step = bool(office.get("kiosk_priority_step", False))
        else:
            self.priority_step = self.args.priority_step == "on"
        self._apply_speech_settings(office)
        self.office_open = bool(office.get("open", True))
        self.closed_title, self.closed_next = strings.closed_texts(office.get("opening_hours"), now)
        # A service no counter serves would issue tickets nobody can call: not offered.
        self.services = [dict(sv, closed_text=strings.service_closed_text(sv, now))
                         for sv in data.get("services", []) if sv.get("counters")]
        self.no_services = not self.services
        self._update_buttons()
        self.services_loaded = True
        current = self.root.current if self.root else "home"
        if not self.office_open and current in ("home", "priority"):
            self.root.current = "closed"
        elif self.office_open and current == "closed":
            self.root.current = "home"

    def _update_buttons(self) -> None:
        if not self.root:
            return
        grid = self.root.get_screen("home").ids.grid
        ids = [s["id"] for s in self.services]
        if ids != list(self._buttons):
            grid.clear_widgets()
            self._buttons = {}
            for service in self.services:
                button = ServiceButton(service_id=service["id"])
                button.colour = get_color_from_hex(strings.service_colour(service))
                button.bind(on_release=self.on_service_press)
                grid.add_widget(button)
                self._buttons[service["id"]] = button
            self._layout_grid()
        for service in self.services:
            button = self._buttons[service["id"]]
            button.name = service["name"]
            button.icon = icon_path(service.get("icon") or "service")
            button.is_open = bool(service["open"])
            button.waiting_text = strings.waiting_text(service.get("waiting", 0))
            button.wait_text = strings.wait_text(service.get("estimated_wait_minutes"))
            button.closed_text = service["closed_text"]
            button.disabled = not (button.is_open and self.online)

    # ------------------------------------------------------------------ taps
    def on_service_press(self, button: ServiceButton) -> None:
        if self.issuing or not self.online or not button.is_open or button.disabled:
            return
        service = next((s for s in self.services if s["id"] == button.service_id), None)
        if service is None:
            return
        if self.speech_on and not self._second_touch(("service", service["id"]), service["name"],
                                                     speech.service_sentence(service["name"])):
            return
        self._selected = service
        self.selected_name = service["name"]
        if self.priority_step:
            self.root.current = "priority"
            self._schedule_home(self.args.priority_seconds)
            self.say(speech.priority_question())
        else:
            self.issue("")

    def choose_priority(self, value: str) -> None:
        if not (self._selected and not self.issuing and self.online):
            return
        if self.speech_on:
            label = dict((v, l) for v, _i, l in strings.PRIORITY_CHOICES).get(value, "No priority")
            if not self._second_touch(("priority", value), _(label), speech.choice_sentence(label)):
                return
        self.issue(value)

    # ------------------------------------------------------------------ reading aloud
    def _second_touch(self, target: Any, name: str, sentence: str) -> bool:
        """With speech on: True when this touch confirms ``target``; a first touch reads it."""
        answer = self.touches.touch(target)
        if answer == speech.READ:
            self.armed_text = _("{name}: touch again to confirm.").format(name=name)
            self.say(sentence)
            if self._disarm_timer is not None:
                self._disarm_timer.cancel()
            self._disarm_timer = Clock.schedule_once(self._disarm, speech.ARMED_SECONDS)
        self._update_armed()
        return answer == speech.CONFIRM

    def _disarm(self, _dt: float = 0) -> None:
        """A first touch left without its second: the outline and the hint go."""
        self.touches.clear()
        self._update_armed()

    def _update_armed(self) -> None:
        """The touched service's button is outlined until its second touch (or another touch)."""
        target = self.touches.target
        if target is None:
            self.armed_text = ""
        for sid, button in self._buttons.items():
            button.armed = target == ("service", sid)
        if self.root is not None:
            for button in self.root.get_screen("priority").ids.choices.children:
                button.armed = target == ("priority", button.value)

    def say(self, text: str) -> None:
        """Read ``text`` aloud now when speech is on (never blocks: the speaker's thread)."""
        if self.speech_on and text:
            if self.speaker is None:
                self.speaker = Speaker(Voice(speech.voice_settings(self._office, self.args.voice_engine)),
                                       KivySoundPlayer("kiosk"), on_error=self._voice_error)
            self.speaker.say(text)

    def _voice_error(self, exc: BaseException) -> None:
        """The speaker's thread could not speak: see :meth:`_speech_failed`."""
        Clock.schedule_once(lambda _dt: self._speech_failed(exc))

    def _speech_failed(self, exc: BaseException) -> None:
        """Nothing can be read aloud: back to one touch, and the citizen is told so.

        Left on, every touch would only arm its button with nothing said."""
        if not self.speech_on:
            return
        log.warning("reading aloud is off: the voice engine failed (%s)", exc)
        self.voice_failed = True
        self.speech_on = False
        self.touches.clear()
        self._update_armed()
        self.show_message(_("This kiosk cannot read aloud right now. Please touch your service "
                            "as usual, or ask the staff for help."), seconds=10)

    def toggle_speech(self) -> None:
        """The speaker button."""
        self.speech_on = not self.speech_on
        self.voice_failed = False  # the citizen asks again: try the engine again
        self.touches.clear()
        self._update_armed()
        if self.speech_on:
            self.say(speech.speech_on_sentence())
        elif self.speaker is not None:
            self.speaker.hush()

    def _apply_speech_settings(self, office: dict[str, Any]) -> None:
        """The office's voice engine, and its speech default (applied when it changes)."""
        self._office = office
        if self.speaker is not None:
            self.speaker.voice.set_settings(speech.voice_settings(office, self.args.voice_engine))
        default = (bool(office.get("kiosk_speech_default", False)) if self.args.speech == "server"
                   else self.args.speech == "on")
        if default != self._speech_default:
            self._speech_default = default
            self.speech_on = default and not self.voice_failed

    def issue(self, priority: str) -> None:
        """Start issuing for the selected service; taps while one is in flight are ignored."""
        self._tap_started = time.perf_counter()
        started = self.issuer.issue(
            self._selected["id"], priority, on_done=self._ticket_arrived,
            on_error=mainthread(self._on_issue_error),
            on_retrying=mainthread(lambda retrying: setattr(self, "retrying", retrying)))
        if started:
            self.issuing = True

    def _ticket_arrived(self, ticket: dict[str, Any]) -> None:
        """On the issuing thread: build the QR picture here, not in the UI frame."""
        try:
            qr = qr_image(self.public_url + ticket["status_path"], 400).convert("RGBA")
        except Exception:  # noqa: BLE001 - the number matters more than the QR
            log.exception("QR code")
            qr = None
        mainthread(self._on_ticket)(ticket, qr)

    def _on_ticket(self, ticket: dict[str, Any], qr: Any = None) -> None:
        self.ticket = ticket
        self.issuing = False
        status_url = self.public_url + ticket["status_path"]
        self.ticket_number = ticket["display_number"]
        counters = [str(n) for n in ticket.get("counters", [])]
        self.ticket_counters_text = _("Counter {number}").format(number=", ".join(counters)) \
            if counters else ""
        label = dict((v, l) for v, _i, l in strings.PRIORITY_CHOICES).get(ticket.get("priority_class") or "")
        priority_text = _("Priority: {label}").format(label=_(label)) if label else ""
        self.qr_texture = self._qr_texture(qr) if qr is not None else None

        def details(*_a: Any) -> None:
            # Each text is a new label texture (~20 ms each on a slow PC): the
            # number gets the first frame to itself, the details follow.
            Window.unbind(on_flip=details)
            if self.ticket is not ticket:
                return
            self.ticket_service = ticket.get("service_name", "")
            self.ticket_ahead_text = strings.ahead_text(ticket.get("waiting_before", 0))
            self.ticket_wait_text = strings.wait_text(ticket.get("estimated_wait_minutes"))
            self.ticket_priority_text = priority_text

        self._clear_details()
        Window.bind(on_flip=details)
        self.print_state, self.print_text = "printing", _("Printing your ticket...")
        self.root.current = "ticket"
        self.last_tap_ms = (time.perf_counter() - self._tap_started) * 1000
        data = self._ticket_data(ticket, status_url, priority_text)
        # Let the number reach the screen first: rendering the print image on
        # a worker thread would compete for the interpreter with this frame,
        # and a printer takes seconds anyway.
        def start_printing(*_a: Any) -> None:
            Window.unbind(on_flip=start_printing)
            self.printing.submit(data, mainthread(self._on_printed))

        Window.bind(on_flip=start_printing)
        self._schedule_home(self.args.ticket_seconds)
        if self.speech_on:
            try:
                self.say(speech.ticket_sentence(ticket["display_number"], ticket.get("counters", []),
                                                self._office.get("voice_number_mode") or "words"))
            except ValueError:
                log.warning("cannot read ticket number %r aloud", ticket["display_number"])

    def _ticket_data(self, ticket: dict[str, Any], status_url: str, priority: str) -> TicketData:
        issued = dt.datetime.fromisoformat(str(ticket.get("issued_at")).replace("Z", "+00:00"))
        if issued.tzinfo is None:
            issued = issued.replace(tzinfo=dt.timezone.utc)
        if self._local_time:
            offset = dt.datetime.fromisoformat(self._local_time).utcoffset()
            if offset is not None:
                issued = issued.astimezone(dt.timezone(offset))
        counters = [_("Counter {number}").format(number=n) for n in ticket.get("counters", [])]
        label = priority.split(": ", 1)[-1] if priority else None
        return TicketData(office_name=self.office_name, display_number=ticket["display_number"],
                          service_name=ticket.get("service_name", ""), counters=counters,
                          issued_at=issued, waiting_before=ticket.get("waiting_before", 0),
                          estimated_wait_minutes=ticket.get("estimated_wait_minutes"),
                          status_url=status_url, priority_label=label, wifi_hint=self.wifi_hint,
                          check_code=ticket.get("check_code", ""))

    def _reprint(self, ticket: dict[str, Any]) -> None:
        """A ticket staff asked to print again: printed as issued, the screen untouched."""
        status_path = ticket.get("status_path") or "/t/" + ticket["code"]
        label = dict((v, l) for v, _i, l in strings.PRIORITY_CHOICES).get(
            ticket.get("priority_class") or "")
        priority = _("Priority: {label}").format(label=_(label)) if label else ""
        self.printing.submit(self._ticket_data(ticket, self.public_url + status_path, priority),
                             lambda _state: None)

    @staticmethod
    def _qr_texture(image: Any) -> Any:
        """Upload the prepared QR pixels (RGBA: no row-alignment surprises)."""
        texture = Texture.create(size=image.size, colorfmt="rgba")
        texture.blit_buffer(image.transpose(FLIP_TOP_BOTTOM).tobytes(), colorfmt="rgba",
                            bufferfmt="ubyte")
        texture.mag_filter = "nearest"
        return texture

    def _on_issue_error(self, err: ApiError) -> None:
        self.issuing = False
        self.show_message(_("Cannot reach the server. Please try again.") if err.unreachable
                          else err.message)
        self.go_home()
        self.link.refresh_now()

    def _on_printed(self, state: PrinterState) -> None:
        if self.root.current != "ticket":
            return
        if state.ok:
            self.print_state, self.print_text = "printed", _("Please take your ticket below.")
        else:
            self.print_state = "failed"
            self.print_text = _("The printer has a problem, please remember your queue number")
            self._schedule_home(self.args.fault_ticket_seconds)

    def _printer_state(self, state: PrinterState) -> None:
        self.printer_ok = state.ok
        self.printer_message = state.message

    # ------------------------------------------------------------------ navigation
    def _schedule_home(self, seconds: float) -> None:
        if self._home_timer is not None:
            self._home_timer.cancel()
        self._home_timer = Clock.schedule_once(lambda _dt: self.go_home(), seconds)

    def _clear_details(self) -> None:
        """No detail of the previous ticket may show next to a new number."""
        self.ticket_service = self.ticket_ahead_text = self.ticket_wait_text = ""
        self.ticket_priority_text = ""

    def go_home(self) -> None:
        if self._home_timer is not None:
            self._home_timer.cancel()
            self._home_timer = None
        self.touches.clear()
        self._update_armed()
        if self.speaker is not None:
            self.speaker.hush()
        if self.root is not None:
            if self.root.current == "ticket" and self._speech_default is not None \
                    and not self.voice_failed:
                self.speech_on = self._speech_default  # the next citizen starts from the office's choice
            self.root.current = "home" if self.office_open else "closed"
            if self._services_later is not None:
                self._apply_services(self._services_later)

    def open_rating(self) -> None:
        if self.root is not None and self.root.has_screen("rate_entry"):
            self.root.current = "rate_entry"

    def show_message(self, text: str, seconds: float = 6.0) -> None:
        self.message = text
        if self._message_timer is not None:
            self._message_timer.cancel()
        self._message_timer = Clock.schedule_once(lambda _dt: setattr(self, "message", ""), seconds)
