"""What the two ECS extensions share: one lock and the ECS errors.

``ecs_express`` (Express Mode services) and ``ecs_services`` (the patches to classic services)
read and change the same per-account/region ECS backend, and ``ecs_services`` hands Express
services to ``ecs_express``; every handler of either holds ``LOCK`` (re-entrant) while it does.
``EcsError`` is answered as ECS's JSON error with its code and message: ``invalid``
(``InvalidParameterException``), ``client_error`` (``ClientException``) and ``invalid_token``
(a ``nextToken`` the emulator did not hand out, as ECS words it).
"""

from __future__ import annotations

import threading

from moto.core.exceptions import ServiceException

LOCK = threading.RLock()


class EcsError(ServiceException):
    def __init__(self, code: str, message: str):
        super().__init__(code, message)


def invalid(message: str) -> EcsError:
    return EcsError("InvalidParameterException", message)


def client_error(message: str) -> EcsError:
    return EcsError("ClientException", message)


def invalid_token() -> EcsError:
    return invalid("Invalid nextToken.")
