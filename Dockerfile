# lmreview's web UI in a container. Build: docker build -t lmreview .
# Run (see docs/deploy.md and compose.yaml):
#   docker run -p 127.0.0.1:8000:8000 -v lmreview-data:/data lmreview
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
# WeasyPrint (PDF reports) draws text with Pango; DejaVu gives it fonts to draw with.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin lmreview \
    && mkdir /data && chown lmreview:lmreview /data
USER lmreview
WORKDIR /data
ENV PYTHONUNBUFFERED=1 \
    LMREVIEW_DATABASE_URL=sqlite:////data/lmreview.db \
    LMREVIEW_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"
CMD ["lmreview", "serve", "--host", "0.0.0.0", "--port", "8000"]
