"""Fixtures the tests of the fakes share."""

import pytest

from tests.fakes.oauth2 import ManualClock


@pytest.fixture
def clock(world):
    """A manual clock at the ``world``'s now (each test file's ``world`` fixture); a test file
    whose fake has no world defines its own."""
    return ManualClock(world.now.timestamp())
