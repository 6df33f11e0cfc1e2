# Sandan service image: slim, non-root, runs `sandan serve`.
#   docker build -t sandan .
#   docker run -p 8000:8000 -v sandan-data:/data \
#     -e SANDAN_PII_KEY=... -e SANDAN_SESSION_SECRET=... sandan
# Embedded default (SQLite in the /data volume) unless SANDAN_DATABASE_URL points at
# PostgreSQL; deploy/compose.yaml runs the production shape. The image is production: it
# refuses to start with the built-in development secrets (service/config.py) unless
# SANDAN_ENVIRONMENT=development is given, for a look on one machine.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SANDAN_HOME=/app \
    SANDAN_ENVIRONMENT=production \
    SANDAN_DATABASE_URL=sqlite+aiosqlite:////data/sandan.db

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY service ./service
COPY schemas ./schemas
COPY migrations ./migrations
# editable: the service finds schemas/ beside its package (service/messages/schema.py)
RUN pip install -e . \
    && useradd --system --uid 10001 --home-dir /data --create-home sandan

USER sandan
WORKDIR /data
# The SQLite file (and nothing else: on PostgreSQL the processes keep no state).
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sandan", "serve", "--host", "0.0.0.0", "--port", "8000"]
