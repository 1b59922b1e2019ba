# One image for web, worker and beat (compose.yaml picks the command). Untested here: this machine has no Docker.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# espeak-ng: the voice for Indic scripts; libgl1/libglib2.0-0: mediapipe's native parts; libportaudio2: sounddevice.
RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng libgl1 libglib2.0-0 libportaudio2 libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
# Pinned, without dependency resolution (as the Makefile does); torch from its CPU index, the rest from PyPI.
RUN pip install --no-deps --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt

COPY . .
# Static files are collected into the image (hashed names for WhiteNoise). The key is for this step only.
RUN SECRET_KEY=collectstatic-only STATIC_ROOT=/srv/static python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --uid 1000 --create-home adstudio \
    && mkdir -p /srv/media /srv/beat && chown -R adstudio /srv/media /srv/beat

USER adstudio
EXPOSE 8000
CMD ["python", "-m", "daphne", "-b", "0.0.0.0", "-p", "8000", "adstudio.asgi:application"]
