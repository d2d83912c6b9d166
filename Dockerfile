# syntax=docker/dockerfile:1
# The ML demo gallery as one container: CPU-only PyTorch, the shipped models inside the image, offline-first
# defaults, a non-root user and a health check. Build and run (docs/deploy.md has compose and Kubernetes):
#
#   docker build -t ml-gallery .
#   docker run --rm -p 8501:8501 -v ml-gallery-cache:/var/cache/ml-gallery ml-gallery
#
# BASE may name another image with Python 3.11+ and its venv module (a local build used a Debian bookworm root
# file system with python3 and python3-venv, see docs/deploy.md); everything below uses `python3` only.
# PIP_FIND_LINKS is empty by default: requirements.txt itself names the CPU torch wheels. A build machine without
# access to download.pytorch.org may point it at a local folder of wheels (docs/deploy.md, "Build without access
# to download.pytorch.org"); it never reaches the final image's environment.
ARG BASE=python:3.12-slim-bookworm

# ---------------------------------------------------------------- build stage: the virtual environment
FROM ${BASE} AS build
ARG PIP_FIND_LINKS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Requirements first: this layer is rebuilt only when they change, not on every code change.
COPY requirements.txt ./
# pip compiles the bytecode here, so a read-only container does not compile torch on every start.
RUN if [ -z "${PIP_FIND_LINKS}" ]; then unset PIP_FIND_LINKS; fi \
    && pip install --no-cache-dir -r requirements.txt

# ---------------------------------------------------------------- run stage: the app
FROM ${BASE}
# checkov:skip=CKV_DOCKER_7:BASE is a build argument whose default pins the Python minor and Debian release (python:3.12-slim-bookworm); pin a digest in your registry if you need bit-for-bit rebuilds
LABEL org.opencontainers.image.title="ml-demo-gallery" \
      org.opencontainers.image.description="A gallery of machine-learning demos in one Streamlit app (CPU only)"

# A fixed, unprivileged user (uid 10001): Kubernetes' runAsNonRoot needs a numeric uid to check.
RUN groupadd --gid 10001 app \
    && useradd --no-log-init --uid 10001 --gid app --home-dir /home/app --create-home --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv

# Offline-first defaults. The app needs no network to start or to answer with its shipped models; it downloads the
# real datasets (and Hugging Face models) on first use only when the network is there. Set GALLERY_OFFLINE=1 to
# forbid every download. Everything the app writes goes under /var/cache/ml-gallery (the volume) or /tmp.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/app \
    GALLERY_CACHE_DIR=/var/cache/ml-gallery \
    XDG_CACHE_HOME=/var/cache/ml-gallery/xdg \
    HF_HOME=/var/cache/ml-gallery/huggingface \
    MPLCONFIGDIR=/tmp/matplotlib \
    HF_HUB_DISABLE_TELEMETRY=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    GALLERY_MEMORY_BUDGET_MB=2048
# Threads: engines/core/threads.py sizes every pool from the CPUs the container may use (its cgroup CPU quota,
# e.g. `docker run --cpus 2` or a Kubernetes CPU limit) before torch and scikit-learn load; GALLERY_THREADS
# overrides the count, and an OMP_NUM_THREADS set here would win over both, so none is set.

WORKDIR /app
# Only what the app reads at run time (.dockerignore keeps tests, benchmarks, .git and the venv out).
# README.md is data too: the knowledge-base chatbot answers from it.
COPY --chown=root:root app.py README.md ./
COPY --chown=root:root .streamlit/config.toml .streamlit/config.toml
COPY --chown=root:root app_pages app_pages
COPY --chown=root:root engines engines
COPY --chown=root:root data data
COPY --chown=root:root assets assets

# A checkout where `python -m engines.build_models` ran holds the models' folders with mode 0700 (tempfile.mkdtemp),
# which the app's user could not read: every file and folder is made readable (never writable) for it.
# The shipped models must match the installed libraries (their key holds the library versions): fail the build
# here rather than retrain in front of the first visitor. The check's empty cache is a temporary directory.
RUN chmod -R a+rX,go-w /app \
    && python3 -m engines.build_models --check \
    && rm -rf /tmp/build-models-* \
    && python3 -m compileall -q app.py app_pages engines \
    && mkdir -p /var/cache/ml-gallery \
    && chown app:app /var/cache/ml-gallery

# Downloads, trained models and the Hugging Face cache. Share it between replicas (docs/deploy.md).
VOLUME ["/var/cache/ml-gallery"]

USER 10001:10001
EXPOSE 8501

# Streamlit's own health endpoint (curl is not in slim images, so Python's urllib asks).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status == 200 else 1)"]

CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501", "--server.headless", "true"]
