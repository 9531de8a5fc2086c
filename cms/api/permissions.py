"""Who may do what: display clients see their own display, staff follow Django's permissions."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission, DjangoModelPermissions
from rest_framework.request import Request

from cms.api.auth import DisplayClient


def is_staff(user: Any) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and not isinstance(user, DisplayClient)
    )


class IsDisplayClient(BasePermission):
    """Only an authenticated display client; what it reads is always its own display."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, DisplayClient)


class IsStaff(BasePermission):
    """Active staff users only (the fallback for operator views)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_staff(request.user)


class OperatorModelPermissions(DjangoModelPermissions):
    """Staff users with the model permission for the method (reading needs ``view_*``)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_staff(request.user) and super().has_permission(request, view)


class OperatorPermissions(BasePermission):
    """Staff users holding every permission the view lists for the method.

    The view says ``required_perms = {"GET": ["cms.view_camera"], ...}``; a method not
    listed needs staff only.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if not is_staff(request.user):
            return False
        required = getattr(view, "required_perms", {}).get(request.method, [])
        return request.user.has_perms(required)
