from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """A user's app: connects its own detection receiver, as docs/results.md shows."""

    name = "tests.testapp"
    label = "sightline_testapp"

    def ready(self) -> None:
        from tests.testapp import receivers  # noqa: F401
