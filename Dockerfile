# Sandan service image: slim, non-root, runs `sandan serve`.
# Embedded default (SQLite in /data) unless SANDAN_DATABASE_URL points at PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SANDAN_HOME=/app \
    SANDAN_DATABASE_URL=sqlite+aiosqlite:////data/sandan.db

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY service ./service
COPY schemas ./schemas
COPY migrations ./migrations
RUN pip install -e . \
    && useradd --system --uid 10001 --home-dir /data --create-home sandan

USER sandan
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sandan", "serve", "--host", "0.0.0.0", "--port", "8000"]
