"""The suite itself: no test can hang CI, and every property-based test reruns from the seed a
run prints (issue 12 item 18)."""

from __future__ import annotations

import pytest

from tests import conftest as run


def test_every_test_has_a_timeout_that_lets_fixtures_tear_down(pytestconfig):
    assert float(pytestconfig.getini("timeout")) > 0
    # "thread" would os._exit() the run, leaving started gunicorn/Celery/PostgreSQL processes behind.
    assert pytestconfig.getini("timeout_method") == "signal"


def test_hypothesis_uses_the_printed_run_seed(pytestconfig):
    from hypothesis import core

    seed = pytestconfig.getoption("hypothesis_seed")
    assert seed is not None and run.RUN_SEED is not None
    assert str(core.global_force_seed) == str(seed)


def test_schemathesis_generation_follows_the_run_seed():
    # schemathesis seeds each of its tests itself, so --hypothesis-seed alone did not reach it.
    from tests.security.test_schemathesis import schema

    assert schema.config.seed == run.RUN_SEED


@pytest.mark.timeout(120)
def test_fault_tests_declare_their_own_timeout():
    from tests.api import test_database_restart
    from tests.delivery import test_worker_faults

    for module in (test_database_restart, test_worker_faults):
        marks = module.pytestmark if isinstance(module.pytestmark, list) else [module.pytestmark]
        assert any(mark.name == "timeout" for mark in marks), module.__name__
