"""`make run`: the whole farm on one machine with embedded defaults.

Migrates, makes sure a demo admin exists (its password printed) and, in development, the
demo display (its client token printed when it is created), starts the embedded
Redis when REDIS_URL is unset, then every process of the Procfile under honcho.
Ctrl-C stops them all; Redis is stopped last so workers can shut down cleanly.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from cms.demo import ensure_demo, train_demo_detector
from cms.embedded_redis import EmbeddedRedis, EmbeddedRedisError
from cms.worker_secret import worker_secret

DEMO_ADMIN = "admin"
log = logging.getLogger(__name__)


def _train_demo_detector() -> None:
    """The offline demo's detector, trained beside the farm (a child process does the work)."""
    try:
        train_demo_detector(settings.DATA_DIR / "demo")
    except Exception:  # the demo goes on with its stand-in model
        log.exception("demo: training the shapes detector failed")
    finally:
        close_old_connections()


def _remembered_secret(path: Path, make: Any) -> str:
    """A development secret generated once and kept under data/ (mode 0600)."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(make())
    return path.read_text().strip()


class Command(BaseCommand):
    help = "Run the whole farm (web, control, ingest, beat, results, flower) under honcho."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--procfile", default=str(settings.BASE_DIR / "Procfile"))

    def handle(self, *args: Any, procfile: str, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        admin_password = self._ensure_demo_admin()
        # Redis first: creating the demo's rows sends the model check and a reconcile.
        embedded = self._start_embedded_redis() if settings.EMBEDDED_REDIS else None
        try:
            self._run(procfile, admin_password, embedded)
        finally:
            if embedded:
                embedded.stop()

    def _run(self, procfile: str, admin_password: str, embedded: EmbeddedRedis | None) -> None:
        demo = None
        if settings.DEBUG and settings.SIGHTLINE_ALLOW_FILE_SOURCES:
            demo = ensure_demo(settings.DATA_DIR / "demo")
            if settings.SIGHTLINE_DEMO_TRAIN:
                threading.Thread(
                    target=_train_demo_detector, name="demo-trainer", daemon=True
                ).start()
        flower_auth = settings.FLOWER_BASIC_AUTH or "admin:" + _remembered_secret(
            settings.DATA_DIR / "flower-password", lambda: secrets.token_urlsafe(12)
        )
        env = self._child_env(flower_auth)

        web_port = env.get("WEB_PORT", "8000")
        demo_line = (
            f"  display http://127.0.0.1:{web_port}/api/v1/display/state/   "
            f"header 'Authorization: Token <token>', token {demo.token_text()}\n"
            if demo
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(
                "\nSightline is starting.\n"
                f"  admin   http://127.0.0.1:{web_port}/admin/   user {DEMO_ADMIN!r}, "
                f"password {admin_password}\n"
                f"{demo_line}"
                f"  flower  http://127.0.0.1:{env.get('FLOWER_PORT', settings.FLOWER_PORT)}/"
                f"   {flower_auth.replace(':', ' / ', 1)}\n"
                f"  redis   {'embedded, ' if embedded else ''}{settings.REDIS_URL}\n"
                "Ctrl-C stops everything.\n"
            )
        )
        honcho = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "honcho", "start", "-f", procfile, "-d", settings.BASE_DIR],
            env=env,
        )
        try:
            honcho.wait()
        except KeyboardInterrupt:
            # The terminal sent SIGINT to honcho too; it stops its processes.
            honcho.wait()

    def _ensure_demo_admin(self) -> str:
        """Create the demo superuser once; its password lives under data/."""
        if settings.DEBUG is False:
            return "(not created: DEBUG is off; use manage.py createsuperuser)"
        password_file = settings.DATA_DIR / "admin-password"
        user_model = get_user_model()
        user = user_model.objects.filter(username=DEMO_ADMIN).first()
        if user is None:
            password_file.unlink(missing_ok=True)
            password = _remembered_secret(password_file, lambda: secrets.token_urlsafe(12))
            user_model.objects.create_superuser(DEMO_ADMIN, "", password)
            return password
        if password_file.exists() and user.check_password(password_file.read_text().strip()):
            return password_file.read_text().strip()
        return "(changed since it was created)"

    def _start_embedded_redis(self) -> EmbeddedRedis:
        try:
            return EmbeddedRedis(settings.DATA_DIR, persist=True).start()
        except EmbeddedRedisError as exc:
            raise CommandError(f"embedded Redis: {exc} (is another `make run` running?)") from None

    def _child_env(self, flower_auth: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            # Every process must use the same Redis, embedded or not.
            REDIS_URL=settings.REDIS_URL,
            FLOWER_BASIC_AUTH=flower_auth,
            # The web server and the ingest workers prove each other with it (generated once
            # under data/ in development, cms.worker_secret).
            SIGHTLINE_WORKER_SECRET=worker_secret(),
            PYTHONUNBUFFERED="1",
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        )
        return env
