"""gunicorn settings shared by the Dockerfile, docker-compose and the tests that serve the app.

`gunicorn -c gunicorn.conf.py clinic_service.wsgi`; command-line flags (e.g. `--bind`) override.

Request limits: Django answers an over-long URL (414), too many or too large headers (431) and
an oversized body (413) with problem details (an OperationOutcome under /fhir/), see
clinic_service/settings.py (MAX_URL_LENGTH, MAX_REQUEST_HEADERS, MAX_HEADER_BYTES). gunicorn's
caps below are set above those so such requests reach Django; gunicorn still answers with its own
plain HTML 400/414 page, before Django, only for requests beyond them or that are not valid HTTP/1.1
(see README, "Limits gunicorn enforces itself").
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
timeout = 30
accesslog = "-"

# The request line (method, URL, version): gunicorn's maximum. Django's URL limit is 4096.
limit_request_line = 8190
# Twice Django's header count (100) and per-header size (8190 bytes).
limit_request_fields = 200
limit_request_field_size = 16380
