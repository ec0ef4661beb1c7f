FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 KOSHIKI_DATA_DIR=/data
WORKDIR /app

# Node.js typesets the formulas on the server as the catalog loads (app/typesetting.py).
RUN apt-get update && apt-get install -y --no-install-recommends nodejs \
  && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir -e .
COPY alembic.ini ./
COPY alembic ./alembic
COPY formulas ./formulas
COPY templates ./templates
COPY static ./static

RUN useradd --system --uid 1000 koshiki && mkdir /data && chown koshiki /data
USER koshiki
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["koshiki", "serve", "--host", "0.0.0.0", "--port", "8000"]
