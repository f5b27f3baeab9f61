"""Health and the problem catalogue (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter

from qoima import __version__
from qoima.api.problems import catalogue
from qoima.api.reference_models import HealthOut, ProblemTypeOut
from qoima.api.routing import StrictRoute

router = APIRouter(tags=["meta"], route_class=StrictRoute)


@router.get("/health", summary="Liveness: the server answers")
def health() -> HealthOut:
    return HealthOut(status="ok", version=__version__)


@router.get("/problems", summary="Every problem type the API returns (RFC 9457)")
def problems() -> list[ProblemTypeOut]:
    return [ProblemTypeOut.of(p) for p in catalogue()]
