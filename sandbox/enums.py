"""Enum values of the Viewer API wire contract (§4.1), exactly as the SDK spells them."""

from __future__ import annotations

from typing import Final

SEVERITIES: Final = ("normal", "high", "stat")
STUDY_VIEWER_STATUSES: Final = ("incomplete", "complete")
USER_LEVELS: Final = ("owner", "admin", "member")
INVITED_SOURCES: Final = ("dashboard", "api")

# ClinicRole: 61 case-sensitive values (§4.1).
CLINIC_ROLES: Final = (
    "Doctor",
    "Physician",
    "Surgeon",
    "Radiologist",
    "Cardiologist",
    "Neurologist",
    "Urologist",
    "Gynecologist",
    "Endocrinologist",
    "Oncologist",
    "Radiation Oncologist",
    "Hematologist",
    "Gastroenterologist",
    "Pulmonologist",
    "Nephrologist",
    "Rheumatologist",
    "Dermatologist",
    "Ophthalmologist",
    "Otolaryngologist",
    "Pediatrician",
    "Obstetrician",
    "Psychiatrist",
    "Anesthesiologist",
    "Emergency Medicine Physician",
    "Family Medicine Physician",
    "Internal Medicine Physician",
    "Pathologist",
    "Nuclear Medicine Physician",
    "Pain Management Specialist",
    "Infectious Disease Specialist",
    "Immunologist",
    "Physician Assistant",
    "Nurse Practitioner",
    "Certified Registered Nurse Anesthetist",
    "Psychologist",
    "Medical Assistant",
    "Scribe",
    "Registered Nurse",
    "Nurse Manager",
    "Patient Care Coordinator",
    "Imaging Technologist",
    "Laboratory Technician",
    "Medical Laboratory Scientist",
    "Pathologists' Assistant",
    "Phlebotomist",
    "Pharmacist",
    "Pharmacy Technician",
    "Physical Therapist",
    "Occupational Therapist",
    "Speech-Language Pathologist",
    "Respiratory Therapist",
    "Nutritionist",
    "Front Desk Operator",
    "Revenue Cycle Manager",
    "Administrative Director",
    "Administrative Assistant",
    "Legal Administrator",
    "IT Administrator",
    "IT Support",
    "Software Engineer",
    "Other",
)


def choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    """Model-field choices whose stored value and label are the wire value."""
    return [(value, value) for value in values]
