"""The server-rendered pages (HTML forms, no JavaScript needed), one module per area.

``router`` gathers them in the order they were always included, so a path two modules could match
resolves as before.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    account,
    auth,
    cohort,
    course,
    data,
    diary,
    exercises,
    home,
    info,
    measures,
    patient,
    practice,
    practice_admin,
    practice_link,
    pwa,
    reminders,
    reports,
    session,
    sharing,
)

router = APIRouter()
router.include_router(home.router)
router.include_router(patient.router)
router.include_router(diary.router)
router.include_router(session.router)
router.include_router(measures.router)
router.include_router(auth.router)
router.include_router(account.router)
router.include_router(practice.router)
router.include_router(practice_admin.router)
router.include_router(cohort.router)
router.include_router(practice_link.router)
router.include_router(reports.router)
router.include_router(data.router)
router.include_router(info.router)
router.include_router(exercises.router)
router.include_router(reminders.router)
router.include_router(pwa.router)
router.include_router(sharing.router)
router.include_router(course.router)
