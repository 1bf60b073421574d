"""Realistic demo data for the sandbox: deterministic, and idempotent.

Names, UIDs and choices come from a random generator with a fixed seed mixed with the clinic ID;
every ID is a hash of (seed, clinic, kind, position). A second run therefore names the same rows
and skips every row whose primary key already exists (rows changed through the API are left as
they are); the missing rows are inserted in batches, so a clinic of thousands seeds in seconds.
Only timestamps depend on when the first run happened (studies spread over the last 14 days).

Contents: one `owner` per clinic (§12.18), users with varied clinic roles and names (some middle
names, "MD" and other suffixes, phone numbers, one with revoked access), three Express customers
(one deactivated), and studies across severities, viewer statuses, assignees (some unassigned),
customers and cancelled states, with metadata and valid DICOM UIDs.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.db import transaction

from sandbox.auth import settings_key
from sandbox.models import (
    DEFAULT_CLINIC_ID,
    SandboxApiKey,
    SandboxExpressCustomer,
    SandboxStudy,
    SandboxUser,
    now_ms,
)
from sandbox.validation import is_dicom_uid

DEFAULT_SEED: Final = 20250130
DEFAULT_USERS: Final = 30
DEFAULT_STUDIES: Final = 80
CLINIC_DOMAIN: Final = "northbay-imaging.example"
# Rows per INSERT: a large clinic (the benchmark's thousands of users) seeds in seconds.
BATCH_SIZE: Final = 500

FIRST_NAMES: Final = (
    "Amara", "Benjamin", "Chen", "Dana", "Elena", "Farid", "Grace", "Hiroshi", "Ines", "Jamal",
    "Katarzyna", "Liam", "Maya", "Nikhil", "Olivia", "Pablo", "Quinn", "Rosa", "Samuel", "Tamar",
    "Uchenna", "Valeria", "William", "Ximena", "Yusuf", "Zoe", "Adaeze", "Bjorn", "Carmen",
    "Desmond",
)  # fmt: skip
LAST_NAMES: Final = (
    "Okafor", "Lindqvist", "Nakamura", "Haddad", "Moreau", "Patel", "Kowalski", "O'Brien",
    "Fernandes", "Abernathy", "Nguyen", "Schmidt", "Osei", "Castillo", "Reyes-Morgan", "Ivanova",
    "Thompson", "Mensah", "Rossi", "Al-Sayed", "Bergstrom", "Delacroix", "Eze", "Fitzgerald",
)  # fmt: skip
MIDDLE_NAMES: Final = ("Marie", "James", "Ann", "Lee", "Jose", "Elizabeth", "Kwame", "Rose")
PHYSICIAN_ROLES: Final = (
    "Radiologist", "Radiologist", "Radiologist", "Radiologist", "Neurologist", "Cardiologist",
    "Oncologist", "Emergency Medicine Physician", "Nuclear Medicine Physician", "Physician",
    "Surgeon", "Pulmonologist", "Internal Medicine Physician", "Pathologist",
)  # fmt: skip
STAFF_ROLES: Final = (
    "Imaging Technologist", "Imaging Technologist", "Patient Care Coordinator",
    "Registered Nurse", "Physician Assistant", "Nurse Practitioner", "Front Desk Operator",
    "Medical Assistant", "IT Administrator", "Administrative Assistant", "Scribe",
)  # fmt: skip
PHYSICIAN_SECOND_SUFFIXES: Final = ("PhD", "FACR", "MPH")

CUSTOMERS: Final = (
    ("Lakeside Orthopedic Group", True, {"region": "north", "contract": "LOG-2024-017"}),
    ("Harbor Urgent Care Network", True, {"region": "coastal", "contract": "HUC-2023-102"}),
    ("Pinecrest Family Clinic", False, {"region": "east", "contract": "PFC-2022-044"}),
)

# (description, modality, body part)
STUDY_TYPES: Final = (
    ("CT Head without Contrast", "CT", "HEAD"),
    ("CT Chest/Abdomen/Pelvis with Contrast", "CT", "CHEST_ABD_PELVIS"),
    ("CT Angiography Chest (PE Protocol)", "CT", "CHEST"),
    ("CT Abdomen and Pelvis without Contrast (Renal Stone)", "CT", "ABDOMEN"),
    ("CT Cervical Spine without Contrast", "CT", "CSPINE"),
    ("Low-Dose CT Lung Cancer Screening", "CT", "CHEST"),
    ("MRI Brain with and without Contrast", "MR", "BRAIN"),
    ("MRI Lumbar Spine without Contrast", "MR", "LSPINE"),
    ("MRI Knee Right without Contrast", "MR", "KNEE"),
    ("MRI Shoulder Left without Contrast", "MR", "SHOULDER"),
    ("MR Angiography Head", "MR", "HEAD"),
    ("MRI Prostate Multiparametric", "MR", "PROSTATE"),
    ("X-Ray Chest PA and Lateral", "CR", "CHEST"),
    ("X-Ray Wrist Left 3 Views", "DX", "WRIST"),
    ("X-Ray Ankle Right 3 Views", "DX", "ANKLE"),
    ("X-Ray Lumbar Spine 2 Views", "DX", "LSPINE"),
    ("US Abdomen Complete", "US", "ABDOMEN"),
    ("US Pelvis Transvaginal", "US", "PELVIS"),
    ("US Thyroid", "US", "NECK"),
    ("US Venous Doppler Lower Extremity Bilateral", "US", "LEG"),
    ("Screening Mammogram Bilateral with Tomosynthesis", "MG", "BREAST"),
    ("Diagnostic Mammogram Left", "MG", "BREAST"),
    ("PET/CT Skull Base to Mid-Thigh", "PT", "WHOLEBODY"),
    ("Nuclear Medicine Bone Scan Whole Body", "NM", "WHOLEBODY"),
    ("DEXA Bone Density", "DX", "HIP"),
)
SITES: Final = ("Main Campus", "North Clinic", "Imaging Center West", "Emergency Department")
REFERRERS: Final = ("Dr. Alvarez", "Dr. Brennan", "Dr. Choi", "Dr. Dubois", "Dr. Ekwueme")
CLINICAL_HISTORY: Final = (
    "Headache, rule out bleed",
    "Shortness of breath, elevated D-dimer",
    "Fall from standing, wrist pain",
    "Follow-up of known nodule",
    "Right lower quadrant pain",
    "Annual screening",
    "Low back pain radiating to left leg",
    "Staging, newly diagnosed lymphoma",
)


@dataclass(frozen=True)
class SeedResult:
    """What the clinic holds after seeding, and how many rows this run created."""

    clinic_id: uuid.UUID
    users: int
    customers: int
    studies: int
    created: int


def seed_sandbox(
    *,
    users: int = DEFAULT_USERS,
    studies: int = DEFAULT_STUDIES,
    seed: int = DEFAULT_SEED,
    clinic_id: uuid.UUID | None = None,
) -> SeedResult:
    """Seed one clinic (by default the clinic of `VIEWER_API_KEY`). Safe to run again."""
    key = settings_key()
    if clinic_id is None:
        clinic_id = key.clinic_id if key is not None else DEFAULT_CLINIC_ID
    creator_key = key if key is not None and key.clinic_id == clinic_id else None
    rng = random.Random(f"viewer-admin-sandbox:{seed}:{clinic_id}")  # noqa: S311 - demo data
    now = now_ms()
    created = 0
    with transaction.atomic():
        people, made = _seed_users(rng, seed, clinic_id, max(users, 1), now)
        created += made
        customers, made = _seed_customers(rng, seed, clinic_id, people, creator_key, now)
        created += made
        created += _seed_studies(
            rng, seed, clinic_id, max(studies, 0), people, customers, creator_key, now
        )
    return SeedResult(
        clinic_id=clinic_id,
        users=SandboxUser.objects.filter(clinic_id=clinic_id).count(),
        customers=SandboxExpressCustomer.objects.filter(clinic_id=clinic_id).count(),
        studies=SandboxStudy.objects.filter(clinic_id=clinic_id).count(),
        created=created,
    )


def _stable_id(prefix: str, seed: int, clinic_id: uuid.UUID, index: int) -> str:
    """The same ID for the same (seed, clinic, kind, position) on every run, whatever else the
    generator drew, so re-running never duplicates a row."""
    digest = hashlib.sha256(f"{seed}:{clinic_id}:{prefix}:{index}".encode()).hexdigest()
    return f"{prefix}_{digest[:32]}"


def _ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _phone(rng: random.Random) -> str:
    digits = f"{rng.randint(200, 989)}555{rng.randint(0, 9999):04d}"
    return f"1{digits}" if rng.random() < 0.2 else digits


def _user_specs(
    rng: random.Random, seed: int, clinic_id: uuid.UUID, count: int, now: datetime
) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = [
        {
            "user_id": _stable_id("usr", seed, clinic_id, 0),
            "clinic_id": clinic_id,
            "email": f"m.okonkwo@{CLINIC_DOMAIN}",
            "first_name": "Margaret",
            "last_name": "Okonkwo",
            "middle_name": "A.",
            "suffix1": "MD",
            "suffix2": "MBA",
            "phone_number": "4155550100",
            "level": "owner",
            "clinic_role": "Administrative Director",
            "can_manage_studies": True,
            "has_dashboard_access": True,
            "invited_source": "dashboard",
            "created_at": now - timedelta(days=720),
            "last_login_at": now - timedelta(hours=3),
        }
    ]
    emails = {specs[0]["email"]}
    for index in range(1, count):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        physician = rng.random() < 0.55
        role = rng.choice(PHYSICIAN_ROLES if physician else STAFF_ROLES)
        admin = index <= 3
        local = f"{first[0]}.{last}".lower().replace("'", "").replace(" ", "")
        email = f"{local}@{CLINIC_DOMAIN}"
        number = 2
        while email in emails:
            email = f"{local}{number}@{CLINIC_DOMAIN}"
            number += 1
        emails.add(email)
        suffix1 = "MD" if physician and rng.random() < 0.8 else ""
        if not physician and rng.random() < 0.08:
            suffix1 = rng.choice(("Jr.", "III"))
        suffix2 = (
            rng.choice(PHYSICIAN_SECOND_SUFFIXES) if suffix1 == "MD" and rng.random() < 0.2 else ""
        )
        source = "api" if rng.random() < 0.25 else "dashboard"
        created_at = _ms(now - timedelta(days=rng.uniform(20, 700)))
        never_logged_in = source == "api" and rng.random() < 0.5
        specs.append(
            {
                "user_id": _stable_id("usr", seed, clinic_id, index),
                "clinic_id": clinic_id,
                "email": email,
                "first_name": first,
                "last_name": last,
                "middle_name": rng.choice(MIDDLE_NAMES) if rng.random() < 0.3 else "",
                "suffix1": suffix1,
                "suffix2": suffix2,
                "phone_number": _phone(rng) if rng.random() < 0.6 else "",
                "level": "admin" if admin else "member",
                "clinic_role": role,
                "can_manage_studies": admin or physician or rng.random() < 0.5,
                "has_dashboard_access": admin or rng.random() < 0.4,
                "invited_source": source,
                "is_revoked": index == count - 1 and count > 4,
                "created_at": created_at,
                "last_login_at": None
                if never_logged_in
                else _ms(now - timedelta(hours=rng.uniform(1, 24 * 30))),
            }
        )
    return specs


def _seed_users(
    rng: random.Random, seed: int, clinic_id: uuid.UUID, count: int, now: datetime
) -> tuple[list[SandboxUser], int]:
    specs = _user_specs(rng, seed, clinic_id, count, now)
    existing = SandboxUser.objects.in_bulk([spec["user_id"] for spec in specs])
    people = [existing.get(spec["user_id"]) or SandboxUser(**spec) for spec in specs]
    new = [person for person in people if person.user_id not in existing]
    SandboxUser.objects.bulk_create(new, batch_size=BATCH_SIZE)
    return people, len(new)


def _seed_customers(
    rng: random.Random,
    seed: int,
    clinic_id: uuid.UUID,
    people: list[SandboxUser],
    creator_key: SandboxApiKey | None,
    now: datetime,
) -> tuple[list[SandboxExpressCustomer], int]:
    customers: list[SandboxExpressCustomer] = []
    created = 0
    candidates = [person for person in people if person.level != "owner"]
    for index, (name, active, metadata) in enumerate(CUSTOMERS):
        customer_id = _stable_id("cus", seed, clinic_id, index)
        created_at = _ms(now - timedelta(days=rng.uniform(60, 400)))
        members = rng.sample(candidates, k=min(len(candidates), rng.randint(2, 5)))
        by_dashboard = rng.random() < 0.34
        customer, made = SandboxExpressCustomer.objects.get_or_create(
            customer_id=customer_id,
            defaults={
                "clinic_id": clinic_id,
                "name": name,
                "is_active": active,
                "metadata": dict(metadata),
                "created_by_api_key_id": None
                if by_dashboard or creator_key is None
                else creator_key.api_key_id,
                "created_by_user_id": people[0].user_id if by_dashboard else "",
                "created_at": created_at,
                "updated_at": _ms(created_at + timedelta(days=rng.uniform(0, 30))),
            },
        )
        if made:
            customer.members.set(members)
        customers.append(customer)
        created += made
    return customers, created


def _study_uid(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.4:
        uid = (
            f"1.2.840.113619.2.55.3.{rng.randint(100000000, 999999999)}."
            f"{rng.randint(100, 999)}.{rng.randint(1000000000, 1999999999)}.{rng.randint(1, 999)}"
        )
    elif style < 0.7:
        uid = (
            f"1.3.12.2.1107.5.1.4.{rng.randint(10000, 99999)}."
            f"{rng.randint(10**17, 10**18 - 1)}.{rng.randint(1, 9)}"
        )
    else:
        uid = f"2.25.{rng.getrandbits(127) + 1}"
    return uid if is_dicom_uid(uid) else f"2.25.{rng.getrandbits(120) + 1}"


def _metadata(rng: random.Random, modality: str, body_part: str) -> dict[str, str]:
    metadata = {
        "accessionNumber": f"ACC{rng.randint(10**7, 10**8 - 1)}",
        "modality": modality,
        "bodyPart": body_part,
    }
    if rng.random() < 0.7:
        metadata["referringPhysician"] = rng.choice(REFERRERS)
    if rng.random() < 0.6:
        metadata["site"] = rng.choice(SITES)
    if rng.random() < 0.4:
        metadata["clinicalHistory"] = rng.choice(CLINICAL_HISTORY)
    if rng.random() < 0.2:
        metadata["priorStudies"] = str(rng.randint(1, 6))
    return metadata


def _seed_studies(
    rng: random.Random,
    seed: int,
    clinic_id: uuid.UUID,
    count: int,
    people: list[SandboxUser],
    customers: list[SandboxExpressCustomer],
    creator_key: SandboxApiKey | None,
    now: datetime,
) -> int:
    readers = [p for p in people if not p.is_revoked and p.clinic_role in PHYSICIAN_ROLES]
    assignable = readers or [p for p in people if not p.is_revoked]
    creators = [p for p in people if p.can_manage_studies and not p.is_revoked]
    studies: list[SandboxStudy] = []
    for index in range(count):
        study_id = _stable_id("stu", seed, clinic_id, index)
        description, modality, body_part = rng.choice(STUDY_TYPES)
        severity = rng.choices(("normal", "high", "stat"), weights=(60, 28, 12))[0]
        created_at = _ms(now - timedelta(minutes=rng.uniform(5, 14 * 24 * 60)))
        complete = rng.random() < 0.35
        cancelled = rng.random() < 0.1
        assignee = rng.choice(assignable) if rng.random() < 0.75 else None
        customer = rng.choice(customers) if customers and rng.random() < 0.35 else None
        by_user = rng.random() < 0.15 or creator_key is None
        creator = rng.choice(creators) if creators else None
        updated_at = min(now, _ms(created_at + timedelta(minutes=rng.uniform(0, 600))))
        defaults = {
            "clinic_id": clinic_id,
            "study_instance_uid": _study_uid(rng),
            "study_description": description,
            "severity": severity,
            "study_viewer_status": "complete" if complete else "incomplete",
            "is_cancelled": cancelled,
            "cancelled_at": updated_at if cancelled else None,
            "assigned_to": assignee,
            "created_by_api_key": None if by_user else creator_key,
            "created_by_user": creator if by_user else None,
            "express_customer": customer,
            "metadata": _metadata(rng, modality, body_part),
            "created_at": created_at,
            "updated_at": updated_at,
        }
        studies.append(SandboxStudy(study_id=study_id, **defaults))
    existing = SandboxStudy.objects.in_bulk([study.study_id for study in studies])
    new = [study for study in studies if study.study_id not in existing]
    SandboxStudy.objects.bulk_create(new, batch_size=BATCH_SIZE)
    return len(new)
