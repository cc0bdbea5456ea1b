# The intake bot: one image for every worker (docker compose up: see compose.yaml, README
# "Deployment"). Runs as an unprivileged user; candidates' documents live in the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin intake

# The dependencies first, from pyproject.toml alone: a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && mkdir -p /data/uploads \
    && chown -R intake:intake /data
# The message catalogues parsed once, here: /app is not writable at run time, and parsing the
# .po files at every start would cost more than a second (flows/messages.py keeps the result).
RUN python -c "from flows import messages as m; [m.read_catalogue(p.parents[1].name) for p in m.LOCALE_DIR.glob('*/LC_MESSAGES/intake.po')]" \
    && ls flows/locale/*/LC_MESSAGES/intake.po.json \
    && python -m compileall -q /app
# (compileall: bytecode made once here; /app is read-only at run time, so a start would
# otherwise compile every module again.)

# Defaults for the container; compose.yaml (or `docker run -e`) sets the rest.
# LISTEN_ADDRESS 0.0.0.0: the container's own network; what is published is compose's choice.
ENV DATABASE_URL=sqlite:////data/intake.sqlite3 \
    UPLOAD_DIR=/data/uploads \
    VACANCIES_DIR=/app/vacancies \
    LISTEN_ADDRESS=0.0.0.0 \
    PORT=8443 \
    LOG_LEVEL=INFO

# Uploaded documents (and, with SQLite, the database). Never the master key: set MASTER_KEY.
VOLUME ["/data"]
USER intake
EXPOSE 8443

# /healthz answers in polling and webhook mode alike: 200 when the process and its database
# answer, 503 otherwise (urlopen raises on 503, so the check fails).
HEALTHCHECK --interval=30s --timeout=6s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8443'), timeout=5)"]

# SIGTERM (docker stop) ends it cleanly: leases released, exit 0.
STOPSIGNAL SIGTERM
CMD ["python", "main.py", "run"]
