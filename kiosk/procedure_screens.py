"""“Thủ tục cần giấy tờ gì?”: the procedure guide at the lobby kiosk.

Two screens added to the ticket kiosk: ``guide`` (browse by service or
search with the on-screen Vietnamese keyboard) and ``procedure`` (one
procedure's papers, fee, time limit; print it as a checklist on the ticket
printer, or take a ticket for its service).  The list is fetched on a worker
thread when the guide opens and searched locally (kiosk.procedure_search).
Both screens go back home after a while untouched.
"""
from __future__ import annotations

import logging
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

from kivy.clock import Clock, mainthread
from kivy.lang import Builder
from kivy.properties import (BooleanProperty, DictProperty, NumericProperty, ObjectProperty,
                             StringProperty)
from kivy.uix.behaviors import ButtonBehavior, ToggleButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from counter_server.client import ApiError
from kiosk import vi_keyboard  # noqa: F401  (VietKeyboard, used by procedures.kv)
from kiosk.checklist import (ChecklistData, checklist_stem, facts, no_papers_text, paper_line,
                             render_checklist, sample_text)
from kiosk.procedure_search import ProcedureIndex
from kiosk.strings import _
from kiosk.widgets import GuardedScreen

log = logging.getLogger(__name__)
KV_FILE = Path(__file__).resolve().parent / "procedures.kv"
GUIDE, PROCEDURE, HOME = "guide", "procedure", "home"
#: Rows shown at once: a touch screen is no place for 2,000 lines; typing narrows it.
SHOWN = 30
IDLE_SECONDS = 90.0
#: A list older than this is fetched again when the guide opens.
STALE_SECONDS = 60.0


class ProcedureRow(ButtonBehavior, BoxLayout):
    """One procedure in the results: its name and its service."""

    procedure = DictProperty({})
    name = StringProperty("")
    detail = StringProperty("")


class ServiceChip(ToggleButtonBehavior, Label):
    """A service to browse ("Tất cả" has service_id 0)."""

    service_id = NumericProperty(0)


class GuideScreen(GuardedScreen):
    guide = ObjectProperty(None, allownone=True)
    status = StringProperty("")

    def on_touch_down(self, touch: Any) -> bool:
        if self.guide is not None:
            self.guide.poke()
        return super().on_touch_down(touch)


class ProcedureScreen(GuardedScreen):
    guide = ObjectProperty(None, allownone=True)
    procedure = DictProperty({})
    title_text = StringProperty("")
    service_text = StringProperty("")
    papers_text = StringProperty("")
    facts_text = StringProperty("")
    sample_text = StringProperty("")
    print_text = StringProperty("")
    printing = BooleanProperty(False)
    #: The service's button on the home screen can issue now (open, served, online).
    can_take_ticket = BooleanProperty(False)
    take_text = StringProperty("")

    def on_touch_down(self, touch: Any) -> bool:
        if self.guide is not None:
            self.guide.poke()
        return super().on_touch_down(touch)


class ProcedureGuide:
    """Fetches, searches and shows the guide; ``app`` is the LobbyKioskApp."""

    def __init__(self, sm: Any, app: Any) -> None:
        self.app, self.sm = app, sm
        self.index: ProcedureIndex | None = None
        self.fetched_at = 0.0
        self._fetching = False
        self.service_id: int | None = None
        self.guide_screen = GuideScreen(name=GUIDE, guide=self)
        self.procedure_screen = ProcedureScreen(name=PROCEDURE, guide=self)
        sm.add_widget(self.guide_screen)
        sm.add_widget(self.procedure_screen)
        self.rows = [ProcedureRow() for _i in range(SHOWN)]
        for row in self.rows:
            row.bind(on_release=lambda r: self.open(r.procedure))
        self.guide_screen.ids.search.bind(text=lambda _w, text: self.show())
        self._idle = None
        sm.bind(current=self._on_screen)

    # ------------------------------------------------------------------ navigation
    def _on_screen(self, _sm: Any, name: str) -> None:
        if name == GUIDE:
            self.poke()
            if self.index is None or time.monotonic() - self.fetched_at > STALE_SECONDS:
                self.fetch()
        elif name != PROCEDURE:  # left the guide: the next citizen starts afresh
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
            search = self.guide_screen.ids.search
            search.focus, search.text = False, ""
            if self.service_id is not None:
                self.service_id = None
                self._build_chips()

    def poke(self) -> None:
        """A touch: the guide stays open for another while."""
        if self._idle is not None:
            self._idle.cancel()
        self._idle = Clock.schedule_once(lambda _dt: self.app.go_home(), IDLE_SECONDS)

    def back_home(self) -> None:
        self.app.go_home()

    # ------------------------------------------------------------------ data
    def fetch(self) -> None:
        if self._fetching:
            return
        self._fetching = True
        if self.index is None:
            self.guide_screen.status = _("Loading the procedures...")
        threading.Thread(target=self._fetch, name="kiosk-procedures", daemon=True).start()

    def _fetch(self) -> None:
        try:
            data = self.app.client.procedures()
            index, error = ProcedureIndex(data.get("procedures") or []), None
        except ApiError as err:
            index, error = None, err
        except Exception as exc:  # noqa: BLE001 - a malformed answer must not kill the kiosk
            log.exception("procedure guide")
            index, error = None, exc
        self._fetched(index, error)

    @mainthread
    def _fetched(self, index: ProcedureIndex | None, error: Exception | None) -> None:
        self._fetching = False
        if index is None:
            log.info("procedure guide not loaded: %s", error)
            if self.index is None:
                self.guide_screen.status = _("The procedures cannot be loaded now. Please ask at "
                                             "the counter.")
            return
        self.index, self.fetched_at = index, time.monotonic()
        self._build_chips()
        self.show()

    def _build_chips(self) -> None:
        box = self.guide_screen.ids.services
        box.clear_widgets()
        for sid, name in [(0, _("All services"))] + (self.index.services if self.index else []):
            chip = ServiceChip(text=name, service_id=sid, group="guide-services",
                               allow_no_selection=False,
                               state="down" if sid == (self.service_id or 0) else "normal")
            chip.bind(on_release=lambda c: self.choose_service(c.service_id))
            box.add_widget(chip)

    def choose_service(self, service_id: int) -> None:
        self.service_id = service_id or None
        self.show()

    def results(self) -> list[dict[str, Any]]:
        if self.index is None:
            return []
        return self.index.search(self.guide_screen.ids.search.text, self.service_id)

    def show(self) -> None:
        """Fill the result rows for the current search and service."""
        if self.index is None:
            return
        found = self.results()
        grid = self.guide_screen.ids.results
        grid.clear_widgets()
        for row, proc in zip(self.rows, found):
            row.procedure = proc
            row.name = proc.get("name", "")
            row.detail = proc.get("service_name", "")
            grid.add_widget(row)
        self.guide_screen.ids.scroll.scroll_y = 1
        if not found:
            self.guide_screen.status = _("No procedure matches. Try fewer words, or ask at the "
                                         "counter.")
        elif len(found) > SHOWN:
            self.guide_screen.status = _("Showing {shown} of {total} procedures: type more to "
                                         "narrow the list.").format(shown=SHOWN, total=len(found))
        else:
            self.guide_screen.status = ""

    # ------------------------------------------------------------------ one procedure
    def open(self, proc: dict[str, Any]) -> None:
        screen = self.procedure_screen
        screen.procedure = proc
        screen.title_text = proc.get("name", "")
        screen.service_text = proc.get("service_name", "")
        papers = proc.get("papers") or []
        screen.papers_text = "\n".join(f"{i}. {paper_line(p)}" for i, p in enumerate(papers, 1)) \
            or no_papers_text()
        screen.facts_text = "\n".join(line for _kind, line in facts(proc))
        screen.sample_text = sample_text() if proc.get("sample") else ""
        screen.print_text = ""
        self._update_take(screen)
        self.guide_screen.ids.search.focus = False
        self.sm.current = PROCEDURE

    def _service_button(self) -> Any:
        sid = self.procedure_screen.procedure.get("service_id")
        return getattr(self.app, "_buttons", {}).get(sid)

    def _update_take(self, screen: ProcedureScreen) -> None:
        button = self._service_button()
        screen.can_take_ticket = bool(button is not None and button.is_open and self.app.online
                                      and not button.disabled)
        if button is None:
            screen.take_text = _("This service does not give tickets at this kiosk.")
        elif not screen.can_take_ticket:
            screen.take_text = button.closed_text or _("This service is closed now.")
        else:
            screen.take_text = ""

    def take_ticket(self) -> None:
        button = self._service_button()
        self._update_take(self.procedure_screen)
        if button is not None and self.procedure_screen.can_take_ticket:
            self.app.on_service_press(button)

    def print_checklist(self) -> None:
        screen = self.procedure_screen
        if screen.printing:
            return
        hours = [line for line in (self.app.hours_text or "").splitlines() if line]
        data = ChecklistData(self.app.office_name, dict(screen.procedure), self.app.office_now(),
                             hours)
        screen.printing = True
        screen.print_text = _("Printing the list of papers...")
        self.app.printing.submit((partial(render_checklist, data), checklist_stem(data)),
                                 mainthread(self._printed))

    def _printed(self, state: Any) -> None:
        screen = self.procedure_screen
        screen.printing = False
        screen.print_text = (_("Please take the list of papers below.") if state.ok else
                             _("The printer has a problem: please ask at the counter."))


def add_procedure_screens(sm: Any, app: Any) -> ProcedureGuide:
    """Add ``guide`` and ``procedure`` to the kiosk's screen manager."""
    Builder.load_file(str(KV_FILE))
    guide = ProcedureGuide(sm, app)
    app.procedure_guide = guide
    return guide
