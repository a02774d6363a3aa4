# One image runs web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim
# Production unless told otherwise: settings then refuse to start without real secrets (no DEBUG, no dev keys).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=portal.settings DJANGO_ENV=production
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client && rm -rf /var/lib/apt/lists/*
# Billing's PDF statements (WeasyPrint) need Pango and a font.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files for manifest storage, under production settings with throwaway values (see the script).
RUN python scripts/build_static.py
RUN useradd --system --uid 10001 portal && mkdir -p /app/var && chown portal /app/var
USER portal
EXPOSE 8000
# portal/gunicorn_conf.py: gunicorn trusts forwarded headers only with BEHIND_TLS_PROXY.
CMD ["gunicorn", "--config", "python:portal.gunicorn_conf", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
