FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN apt-get update && apt-get install -y --no-install-recommends procps && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput
RUN useradd --system --home /app fpr && mkdir -p /app/media && chown fpr /app/media
USER fpr
EXPOSE 8000
CMD ["gunicorn", "fpr.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
