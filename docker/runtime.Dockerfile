# The Python runtime image: the stdlib-only aerogrid package, nothing else (no pip install, no
# Kafka client). The connector's code is mounted at /app from its ConfigMap. Build from the root:
#   docker build -f docker/runtime.Dockerfile -t aerogrid/runtime:0.1.0 .
FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/opt/aerogrid
COPY sdk/python/aerogrid /opt/aerogrid/aerogrid
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin aerogrid
USER 10001:10001
WORKDIR /app
ENTRYPOINT ["python", "-m", "aerogrid"]
CMD ["run", "/app/app.py"]
