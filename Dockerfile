# kompetanse-lrs: gunicorn serving the LRS, the competence engine's jobs and the web UI.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY lrs lrs
COPY simulation simulation
COPY course_builder course_builder
COPY cmi5_package cmi5_package
COPY plugins plugins
COPY xapi_client xapi_client
# The pinned versions (requirements.lock), then the LRS itself.
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.lock \
 && pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /srv/lrs --create-home lrs
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl && rm -rf /wheels
USER lrs
WORKDIR /srv/lrs
ENV LRS_HOST=0.0.0.0 LRS_PORT=8080 LRS_INSTANCE_PATH=/srv/lrs/instance PYTHONUNBUFFERED=1
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/ready', timeout=4).status == 200 else 1)"
# Migrate (one instance at a time: an advisory lock), then serve. SIGTERM: gunicorn finishes requests in flight.
CMD ["sh", "-c", "lrs db upgrade && exec lrs run"]
