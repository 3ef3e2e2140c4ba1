# The kubescope image the manifests in deploy/ run (ghcr.io/kubescope/kubescope:<version>):
#   docker build -t ghcr.io/kubescope/kubescope:0.1.0 .
# One image, every subcommand: the container's args pick state-metrics or resource-metrics.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels kubescope \
    && rm -rf /root/.cache
# a non-root user (the manifests run with runAsNonRoot and a read-only root filesystem)
USER 65534:65534
ENTRYPOINT ["kubescope"]
CMD ["--help"]
