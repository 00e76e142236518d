# The Python runtime image: the stdlib-only aerogrid package, nothing else (no pip install, no
# Kafka client), taken from the CLI's npm package (`npm pack` at the root), the same build the
# sidecar image and an installed CLI use. Its bytecode is compiled here: the runtime runs with
# PYTHONDONTWRITEBYTECODE and would otherwise compile the SDK in memory at every start. The
# connector's code is mounted at /app from its ConfigMap. Build from the root:
#   npm pack && docker build -f docker/runtime.Dockerfile -t aerogrid/runtime:0.1.0 .
FROM python:3.12-slim-bookworm AS package
WORKDIR /src
COPY aerogrid-*.tgz ./
RUN mkdir -p /opt/aerogrid \
 && tar -xzf aerogrid-*.tgz -C /opt/aerogrid --strip-components=3 package/sdk/python/aerogrid \
 && python -m compileall -q /opt/aerogrid/aerogrid \
 && PYTHONPATH=/opt/aerogrid python -c 'import aerogrid'

FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/opt/aerogrid
COPY --from=package /opt/aerogrid /opt/aerogrid
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin aerogrid
USER 10001:10001
WORKDIR /app
ENTRYPOINT ["python", "-m", "aerogrid"]
CMD ["run", "/app/app.py"]
