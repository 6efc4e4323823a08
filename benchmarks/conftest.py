"""Benchmark fixtures shared with the test suite."""

# The delivery benchmarks are transactional: their flush must pass the audit trail's TRUNCATE guard.
from tests.conftest import _flush_lifts_the_audit_truncate_guard

__all__ = ["_flush_lifts_the_audit_truncate_guard"]
