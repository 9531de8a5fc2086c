from django.apps import AppConfig


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = "Sightline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cms import signals  # noqa: F401  (connects the receivers)
