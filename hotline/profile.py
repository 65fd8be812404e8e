"""The citizen profile an agent sees when a call is offered: who is calling, how sure we
are of it, every past consultation in any department, and every open item in every
department with totals (the "one call instead of 230 departments" view).

Pure: it reads only through the registry it is handed.
"""
from __future__ import annotations

from collections import defaultdict

from hotline.errors import NoSuchCitizen

AGENT_VERIFIED = "agent"  # the agent found the caller in the registry on the desk

VERIFICATION_LABELS = {
    "caller_id": "caller ID matched the registry",
    "registry_number": "registry number typed by the caller",
    "none": "not identified",
    "lookup": "looked up by an operator",
    AGENT_VERIFIED: "identified by the agent",
}


def department_names(skills, language: str) -> dict[str, str]:
    """Each department's (skill's) name in `language`, else in its first language."""
    return {skill: cfg.name.get(language) or next(iter(cfg.name.values())) for skill, cfg in skills.items()}


def build_profile(registry, citizen_id: str | None, verification: str, caller: str,
                  department_names: dict[str, str]) -> dict:
    """A JSON-ready profile; `identified` is False when the caller is unknown."""
    if not citizen_id:
        return {"identified": False, "caller": caller, "verification": "none",
                "verification_label": VERIFICATION_LABELS["none"]}
    try:
        record, consultations = registry.record_and_consultations(citizen_id)
    except NoSuchCitizen:
        return {"identified": False, "caller": caller, "verification": "none",
                "verification_label": VERIFICATION_LABELS["none"], "missing_citizen_id": citizen_id}
    for item in consultations:
        item["department_name"] = department_names.get(item["department"], item["department"])

    by_department: dict[str, dict] = {}
    totals: dict[str, int] = defaultdict(int)
    for item in record.get("open_items", []):
        department = item["department"]
        entry = by_department.setdefault(department, {
            "department": department,
            "department_name": department_names.get(department, department),
            "items": [],
            "total": defaultdict(int),
        })
        entry["items"].append(item)
        entry["total"][item["currency"]] += item["amount"]
        totals[item["currency"]] += item["amount"]
    open_items = [dict(entry, total=dict(entry["total"])) for entry in by_department.values()]

    return {
        "identified": True,
        "id": record["id"],
        "name": record["name"],
        "caller": caller,
        "verification": verification,
        "verification_label": VERIFICATION_LABELS.get(verification, verification),
        "phones": record.get("phones", []),
        "birth_year": record.get("birth_year"),
        "address": record.get("address"),
        "language": record.get("language"),
        "vulnerable": record.get("vulnerable", False),
        "consultations": consultations,
        "open_items": open_items,
        "open_items_total": dict(totals),
        "complete": True,  # every configured source answered (the built-in registry is the only one)
    }
