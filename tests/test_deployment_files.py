"""docker-compose.yml and the Dockerfile describe the production stack (no engine runs here)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_every_service_with_a_health_check():
    services = _compose()["services"]
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert name in services, name
        assert "healthcheck" in services[name], f"{name} has no health check"


def test_compose_app_services_point_at_the_stack_services():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["DEBUG"] == "false"
    assert "gunicorn" in (ROOT / "Dockerfile").read_text()
    assert services["worker"]["command"][:3] == ["celery", "-A", "clinic_service"]
    assert "beat" in services["beat"]["command"]


def test_gunicorn_is_configured_from_one_file_whose_caps_exceed_djangos_limits():
    # Django answers over-long URLs and headers with problem details only if gunicorn lets them
    # through: its caps must sit above Django's limits, and every launcher must use that file.
    import runpy

    from django.conf import settings

    services = _compose()["services"]
    assert "--config" in services["web"]["command"] and "gunicorn.conf.py" in services["web"]["command"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '"--config", "gunicorn.conf.py"' in dockerfile and "gunicorn.conf.py ./" in dockerfile
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["limit_request_line"] > settings.MAX_URL_LENGTH + len("DELETE  HTTP/1.1")
    assert conf["limit_request_fields"] > settings.MAX_REQUEST_HEADERS
    assert conf["limit_request_field_size"] > settings.MAX_HEADER_BYTES
