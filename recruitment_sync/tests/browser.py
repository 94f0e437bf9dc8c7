"""A headless Chromium for browser tests that walk several tours and pages of other origins
(a provider's consent page): the connectors' journeys and the end-to-end sandbox test use it."""

import json
import time
from concurrent.futures import Future
from contextlib import contextmanager

from odoo.tests.common import ChromeBrowser, ChromeBrowserException

from odoo.addons.bus.models.bus import dispatch
from odoo.addons.bus.websocket import WebsocketConnectionHandler

SUCCESS_SIGNAL = "tour succeeded"


class BrowserSession:
    """A headless Chromium kept open across tours, and across pages of other origins."""

    def __init__(self, case, login):
        self.case = case
        # The browser hears of the runs over the bus's websocket, which Odoo refuses while a test
        # runs under odoo-bin --test-enable (modules.module.current_test): open it there too, as
        # the bus's own WebsocketCase does.
        case.patch(WebsocketConnectionHandler, "websocket_allowed", classmethod(lambda cls, request: True))
        self.browser = ChromeBrowser(case, success_signal=SUCCESS_SIGNAL)
        case.authenticate(login, login, browser=self.browser)

    def close(self):
        self.browser.stop()
        self.case._wait_remaining_requests()

    @contextmanager
    def server_paused(self):
        """Use the database while the browser is open: its requests wait (they share the cursor)."""
        case = self.case
        with case.registry.test_lock:
            case.env.invalidate_all()
            yield
            case.env.flush_all()
            case.env.invalidate_all()

    def deliver_bus_notifications(self):
        """What a commit does after a run, which tests never do: the bus stores the messages
        (precommit), then the websockets of the open browser are woken to send them.

        A real commit also starts a new transaction: its messages are dated now. A test's
        transaction may have begun over a minute ago, and a browser that has not received any
        message yet asks only for those of the last 50 seconds (bus.bus._poll with last=0):
        the new messages get the wall-clock date a committed run would give them.
        """
        cr = self.case.env.cr
        cr.execute("SELECT COALESCE(MAX(id), 0) FROM bus_bus")
        last_before = cr.fetchone()[0]
        cr.precommit.run()
        cr.execute(
            "UPDATE bus_bus SET create_date = clock_timestamp() AT TIME ZONE 'UTC' WHERE id > %s",
            [last_before],
        )
        for websockets in list(dispatch._channels_to_ws.values()):
            for websocket in list(websockets):
                websocket.trigger_notification_dispatching()

    def evaluate(self, expression, timeout=10.0):
        """The value of a JavaScript expression in the current page."""
        answer = self.browser._websocket_request(
            "Runtime.evaluate",
            params={"expression": expression, "returnByValue": True, "awaitPromise": True},
            timeout=timeout,
        )
        if answer.get("exceptionDetails"):
            raise ChromeBrowserException(answer["exceptionDetails"].get("text"))
        return answer["result"].get("value")

    def wait_for(self, expression, what, timeout=30.0):
        """Wait until ``expression`` is true in the current page, whatever page it is by then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ready = self.evaluate(f"(() => {{ try {{ return !!({expression}); }} catch {{ return false; }} }})()")
            except (ChromeBrowserException, TimeoutError):
                ready = False  # the page is being replaced: ask the next one
            if ready:
                return
            time.sleep(0.2)
        location = self.evaluate("location.href")
        self.case.fail(f"The browser never showed {what} (it is on {location}).")

    def run_tour(self, tour_name, url=None, timeout=60):
        """Run a tour on ``url``, or on the page the browser shows now (``url`` None)."""
        browser = self.browser
        if browser.had_failure:
            self.case.fail(f"The browser reported an error before the tour {tour_name}.")
        browser._result = Future()  # a new tour, a new outcome
        if url:
            browser.navigate_to(self.case.base_url() + url, wait_stop=True)
        self.wait_for(f"odoo.isTourReady({tour_name!r})", f"the page where {tour_name} starts")
        options = {
            "stepDelay": 0,
            "keepWatchBrowser": False,
            "debug": False,
            "startUrl": url or self.evaluate("location.pathname + location.search"),
            "delayToCheckUndeterminisms": 0,
        }
        try:
            browser._wait_code_ok(f"odoo.startTour({tour_name!r}, {json.dumps(options)})", timeout)
        except ChromeBrowserException as error:
            self.case.fail(f"The tour {tour_name} failed:\n\n{error}")
