"""JobAdder: a placement whose detail call fails for a passing reason is not lost."""

import functools
import time
from datetime import timedelta
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.recruitment_sync.models import recruitment_sync_integration as integration_module
from odoo.addons.recruitment_sync.services.http_client import HttpClient
from odoo.addons.recruitment_sync.tests.common import no_sleep

from tests.fakes.records_api import MALFORMED_JSON

from .test_sync import JobAdderCase, expected_in_initial_load

ATTEMPTS_PER_CALL = 4  # the client's first call and its three retries


@tagged("post_install", "-at_install", "recruitment_sync")
class TestJobAdderTransientDetail(JobAdderCase):
    placements = 30

    def setUp(self):
        super().setUp()
        self.fake.clear_faults()
        self.fake.requests.clear()
        # A short read timeout, so that the timeout case does not wait 30 s per attempt.
        client = functools.partial(HttpClient, sleep=no_sleep, timeout=(5, 0.5))
        self.startPatcher(patch.object(integration_module, "HttpClient", client))

    def victim(self):
        """A placement the initial load takes whose id is no prefix of another's (faults match by prefix)."""
        today = self.world.today
        ids = [str(p.placement_id) for p in self.world.placements]
        for placement in self.world.placements:
            own = str(placement.placement_id)
            if expected_in_initial_load(placement, today) and not any(
                other != own and other.startswith(own) for other in ids
            ):
                return placement.placement_id
        raise AssertionError("no placement fits")

    def detail_calls(self, placement_id, expected=0):
        """``GET /placements/{id}`` calls the fake recorded (it records a delayed call when it answers)."""
        deadline = time.monotonic() + 10
        while True:
            calls = [r for r in self.fake.requests if r.method == "GET" and r.path == f"/v2/placements/{placement_id}"]
            if len(calls) >= expected or time.monotonic() > deadline:
                return len(calls)
            time.sleep(0.05)

    def assert_retried_and_imported_once(self, fault):
        placement_id = self.victim()
        fault(f"/v2/placements/{placement_id}")
        first = self.run_sync("initial_load")
        [line] = first.line_ids.filtered(lambda line: line.external_id == str(placement_id))
        self.assertEqual((line.action, line.failure_type), ("failed", "transient"), line.reason)
        self.assertFalse(self.placement(placement_id))
        self.assertEqual(line.failed_item_id.state, "retrying")
        self.assertEqual(self.detail_calls(placement_id, ATTEMPTS_PER_CALL), ATTEMPTS_PER_CALL)
        # The next scheduled sync: the placement did not change in JobAdder (its updatedAt is
        # before the watermark), yet it is fetched again and imported.
        second = self.run_sync("scheduled", at=self.now + timedelta(minutes=10))
        self.assertEqual(self.detail_calls(placement_id), ATTEMPTS_PER_CALL + 1)
        [line] = second.line_ids.filtered(lambda line: line.external_id == str(placement_id))
        self.assertEqual(line.action, "created")
        self.assertEqual(len(self.placement(placement_id)), 1)
        self.assertFalse(self.integration.failed_item_ids.filtered(lambda i: i.item_key == str(placement_id)))
        third = self.run_sync("scheduled", at=self.now + timedelta(hours=2))
        self.assertEqual(self.detail_calls(placement_id), ATTEMPTS_PER_CALL + 1, "imported once, not fetched again")
        self.assertFalse(third.line_ids.filtered(lambda line: line.external_id == str(placement_id)))
        self.assertEqual(len(self.placement(placement_id)), 1)

    def test_persistent_503_on_one_detail_call(self):
        self.assert_retried_and_imported_once(
            lambda path: self.fake.inject(status=503, times=ATTEMPTS_PER_CALL, path_prefix=path)
        )

    def test_timeout_on_one_detail_call(self):
        self.assert_retried_and_imported_once(
            lambda path: self.fake.inject(delay=2, times=ATTEMPTS_PER_CALL, path_prefix=path)
        )

    def test_malformed_body_on_one_item(self):
        self.assert_retried_and_imported_once(
            lambda path: self.fake.inject(
                status=200,
                body=MALFORMED_JSON,
                content_type="application/json",
                times=ATTEMPTS_PER_CALL,
                path_prefix=path,
            )
        )

    def test_after_the_last_attempt_it_stays_failed_and_is_listed(self):
        self.integration.retry_max_attempts = 2
        placement_id = self.victim()
        self.fake.inject(status=503, times=3 * ATTEMPTS_PER_CALL, path_prefix=f"/v2/placements/{placement_id}")
        self.run_sync("initial_load")
        self.run_sync("scheduled", at=self.now + timedelta(minutes=10))
        item = self.integration.failed_item_ids.filtered(lambda i: i.item_key == str(placement_id))
        self.assertRecordValues(item, [{"state": "given_up", "attempts": 2, "failure_type": "transient"}])
        calls = self.detail_calls(placement_id)
        self.run_sync("scheduled", at=self.now + timedelta(days=3))
        self.assertEqual(self.detail_calls(placement_id), calls, "given up")
        self.assertFalse(self.placement(placement_id))
        self.assertIn(item, self.integration.failed_item_ids)
