# mojito: one image for web (gunicorn), Celery worker, Celery beat and one-shot management
# commands; docker-compose.yml picks the command per service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are baked into the image (whitenoise serves them). Settings refuse to load
# without secrets when DEBUG is false: these dummy values exist for this build step only and
# are not part of the image's environment.
RUN DEBUG=false \
    SECRET_KEY=build-only-not-a-secret \
    FERNET_KEYS=build-only-not-a-key \
    CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput --verbosity 0

RUN useradd --create-home --uid 10001 mojito
USER mojito

EXPOSE 8000
CMD ["gunicorn", "mojito.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--no-control-socket"]
