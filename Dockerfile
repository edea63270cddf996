# syntax=docker/dockerfile:1
# The one image of the Python services (docs/ARCHITECTURE.md §1): the API, the calls service,
# the RQ workers, the scheduler and the one-shot migration differ only by their command
# (docker-compose.yml, deploy/k8s/). Build from the repository root:
#   docker build -t prosaas/python .
# Two stages: the dependencies are built into a virtualenv first, so a change to the code alone
# rebuilds only the last layers.

FROM python:3.11.11-slim-bookworm AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
# Only setup.cfg decides the dependencies: its install_requires (environment markers kept)
# become requirements.txt, so this layer is rebuilt when setup.cfg changes, not the code.
COPY setup.cfg ./
RUN python -c "import configparser; c = configparser.ConfigParser(); c.read('setup.cfg'); \
lines = [l.strip() for l in c['options']['install_requires'].splitlines()]; \
open('requirements.txt', 'w').write('\n'.join(l for l in lines if l and not l.startswith('#')) + '\n')" \
    && pip install --requirement requirements.txt

FROM python:3.11.11-slim-bookworm
# espeak-ng: the offline receptionist's speech (RECEPTIONIST_TTS=auto falls back to the
# pre-rendered clips without it, espeak renders any text).
RUN apt-get update \
    && apt-get install --yes --no-install-recommends espeak-ng \
    && rm -rf /var/lib/apt/lists/*
# A fixed non-root uid/gid (10001): the named volumes below are created owned by it, and the
# Kubernetes manifests' securityContext (fsGroup) uses the same number.
RUN groupadd --system --gid 10001 prosaas \
    && useradd --system --uid 10001 --gid prosaas --home-dir /app --shell /usr/sbin/nologin prosaas \
    && mkdir -p /data/recordings /data/media /data/spool \
    && chown -R prosaas:prosaas /data
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
# The source tree, installed in place (editable, no dependencies: they are in the layer above):
# the Alembic versions (api/migrations/versions, not a package) and the receptionist's clips are
# read from beside the code, and the package metadata gives /version its version.
COPY setup.cfg pyproject.toml README.md ./
COPY contracts ./contracts
COPY callengine ./callengine
COPY jobs ./jobs
COPY api ./api
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps --editable . \
    && rm -rf build
ARG GIT_COMMIT=""
ARG BUILD_TIME=""
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GIT_COMMIT=$GIT_COMMIT \
    BUILD_TIME=$BUILD_TIME \
    RECORDINGS_DIR=/data/recordings \
    MEDIA_DIR=/data/media \
    CALLS_SPOOL_DIR=/data/spool
USER 10001:10001
VOLUME ["/data/recordings", "/data/media", "/data/spool"]
EXPOSE 5000 5050
# python -m callengine | python -m jobs.worker | python -m jobs.scheduler | python -m api.migrate
CMD ["python", "-m", "api"]
