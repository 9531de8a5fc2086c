#!/bin/sh
# Runs one Sightline process by its Procfile name, so the Procfile stays the one
# definition of every process (`make run` starts the same lines under honcho):
#
#   web | control | ingest | beat | results | flower [extra arguments]
#   migrate          apply migrations and collect static files into STATIC_ROOT, then exit
#   manage ARGS...   python manage.py ARGS (createsuperuser, check --deploy, shell, ...)
#   anything else    run as given
set -eu
cd "$(dirname "$0")/.."  # the repository root (/app in the image)

role="${1:-}"
case "$role" in
  web | control | ingest | beat | results | flower)
    shift
    line=$(sed -n "s/^${role}:[[:space:]]*//p" Procfile)
    if [ -z "$line" ]; then
      echo "entrypoint: no '${role}' process in the Procfile" >&2
      exit 64
    fi
    # sh expands the Procfile's ${VAR:-default}s; exec leaves the process itself under tini.
    exec sh -c "exec ${line} \"\$@\"" "$role" "$@"
    ;;
  migrate)
    python manage.py migrate --noinput
    exec python manage.py collectstatic --noinput --verbosity 0
    ;;
  manage)
    shift
    exec python manage.py "$@"
    ;;
  "")
    echo "usage: web | control | ingest | beat | results | flower | migrate | manage ARGS | COMMAND" >&2
    exit 64
    ;;
  *)
    exec "$@"
    ;;
esac
