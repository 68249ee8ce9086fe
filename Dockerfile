# OneVisit app image: the API and the PWA, served by uvicorn.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    ONEVISIT_VAR_DIR=/data/var ONEVISIT_MEDIA_DIR=/data/media
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --uid 1000 onevisit \
    && mkdir -p /data/var /data/media && chown -R onevisit /data
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY backend ./backend
COPY pwa ./pwa
RUN pip install --no-cache-dir -c constraints.txt -e .
USER onevisit
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health')"
CMD ["sh", "-c", "onevisit migrate && onevisit serve --no-migrate --host 0.0.0.0 --port 8000"]
