# syntax=docker/dockerfile:1
# Build: docker build -t ceu-ledger .
# Run:   docker run -e DATABASE_URL=postgresql://... -e LEDGER_ADMIN_TOKEN=... \
#          -e LEDGER_PUBLIC_URL=https://ceu.example.org -e LEDGER_SESSION_SECRET=... \
#          -e LEDGER_KEY_ENCRYPTION_KEY=... -p 8000:8000 ceu-ledger
#        `serve` refuses to start (exit 2, one line naming them) without the last three:
#        nothing signed is ever built from a request's Host header (README, Configuration).

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY events ./events
COPY projections ./projections
COPY ledger ./ledger
RUN pip install --no-cache-dir .

FROM python:3.11-slim-bookworm AS runtime
# The service's Debian packages (PDF rendering: Pango, HarfBuzz's subsetter, a font), from the
# same list `make run` and `make test` install from: the `runtime` lines of debian-packages.txt.
COPY debian-packages.txt /opt/setup/debian-packages.txt
COPY scripts/system-setup /opt/setup/scripts/system-setup
RUN /opt/setup/scripts/system-setup runtime && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /app ledger
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# Migrations are read from next to the code's checkout; point the runner at them.
COPY migrations /app/migrations
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LEDGER_MIGRATIONS_DIR=/app/migrations \
    LEDGER_HOST=0.0.0.0 \
    LEDGER_PORT=8000
USER ledger
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
# LEDGER_PUBLIC_URL, LEDGER_SESSION_SECRET and LEDGER_KEY_ENCRYPTION_KEY are required and
# deliberately not set here: give them at `docker run` (see the top of this file).
CMD ["ceu-ledger", "serve"]
