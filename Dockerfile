# Production image: gunicorn serving clinic_service, also used for the Celery worker and beat.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system app && useradd --system --gid app --home-dir /app app
WORKDIR /app

COPY pyproject.toml README.md ./
COPY clinic_service ./clinic_service
COPY intake ./intake
COPY api_schema ./api_schema
COPY manage.py gunicorn.conf.py ./
RUN pip install . \
    && DEBUG=true python manage.py collectstatic --noinput

USER app
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
# Bind address, workers, timeout and request limits: gunicorn.conf.py.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "clinic_service.wsgi"]
