"""What the tests of several addons share: fixtures and fakes of the remote APIs.

Addon tests import it as ``tests`` (the repository root is put on ``sys.path`` by
``recruitment_sync.tests.common``); the fakes also run as the sandbox's services.
"""
