from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared kernel: users, the permission gate, API tokens, roles, heartbeats."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core.signals import request_finished, request_started
        from django.db.models.signals import post_migrate

        from core.db_health import connections_used, skip_recent_health_checks
        from core.roles import sync_roles_after_migrate
        from core.schedules import install_default_schedules_after_migrate
        from core.security import session_clock_start

        user_logged_in.connect(session_clock_start, dispatch_uid="core.session_clock_start")
        # Connected after Django's close_old_connections (django.db connects it on import), so it runs after it.
        request_started.connect(skip_recent_health_checks, dispatch_uid="core.skip_recent_health_checks")
        request_finished.connect(connections_used, dispatch_uid="core.connections_used")
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="core.sync_roles")
        # post_migrate comes after every migration ran, so django-celery-beat's tables exist by then.
        post_migrate.connect(install_default_schedules_after_migrate, dispatch_uid="core.default_schedules")
