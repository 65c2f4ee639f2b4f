"""What ``scrapy ccsignals-check`` prints for one URL: the outcome as one JSON-able record
and as aligned text. Pure: the command fetches, this only formats. Server text is shown
with control characters escaped (SIGNALS.md, Bad input)."""

from __future__ import annotations

from typing import Any

from scrapy_ccsignals.records.report import printable

#: Exit codes, as documented in docs/commands.md.
EXIT_ALLOW, EXIT_DENY, EXIT_ERROR = 0, 1, 2


def forbidden_record(
    url: str, reason: str, policy: dict[str, Any], agent: dict[str, str]
) -> dict[str, Any]:
    """The access gate's verdict in the provenance record's shape."""
    return {
        "url": url,
        "decision": "forbidden",
        "reasons": [reason],
        "policy": policy,
        "policies": [policy] if policy else [],
        "agent": agent,
    }


def error_record(
    url: str, kind: str, message: str, agent: dict[str, str], policies: list[dict[str, Any]]
) -> dict[str, Any]:
    """A URL that could not be checked: the origin is down, the download failed."""
    return {
        "url": url,
        "decision": "error",
        "error": {"type": kind, "message": message},
        "policies": policies,
        "agent": agent,
    }


def exit_code(record: dict[str, Any]) -> int:
    decision = record.get("decision")
    if decision == "allow":
        return EXIT_ALLOW
    if decision in ("deny", "forbidden"):
        return EXIT_DENY
    return EXIT_ERROR


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    ]


def explain_text(record: dict[str, Any], purpose: str) -> str:
    agent = record.get("agent") or {}
    out = [
        f"URL: {printable(record['url'])}",
        f"Token: {agent.get('token', '?')}   User agent: {printable(agent.get('user_agent', ''))}",
        f"Purpose: {purpose}",
        "Policy files:",
    ]
    policies = record.get("policies") or []
    rows = [
        [
            p["kind"],
            printable(p["url"]),
            f"status {p['status']}",
            p["outcome"] + (f" ({printable(p['detail'])})" if p.get("detail") else ""),
        ]
        for p in policies
    ]
    out += _table(rows) if rows else ["  none fetched"]
    decision = record["decision"]
    if decision == "forbidden":
        out.append("Decision: FORBIDDEN (access gate: the URL was not fetched)")
        out += [f"  - {printable(r)}" for r in record["reasons"]]
        return "\n".join(out)
    if decision == "error":
        error = record["error"]
        out.append(f"Decision: ERROR ({error['type']}): {printable(error['message'])}")
        return "\n".join(out)
    out.append(f"Response: {record['status']} {record.get('content_type') or '-'}")
    out.append("Signals:")
    signals = record.get("signals") or []
    rows = [
        [
            f"[{s['family']}]",
            s["layer"],
            s["effect"],
            f"{printable(str(s['value']))}  <- {printable(s['raw'])}",
        ]
        for s in signals
    ]
    out += _table(rows) if rows else ["  none"]
    for key, label in (("asset", "File metadata"), ("c2pa", "C2PA"), ("rsl", "RSL")):
        if record.get(key):
            out.append(f"{label}: {printable(str(record[key]))}")
    lic = record.get("license")
    out.append(
        f"Licence: {printable(lic['id'] or lic['url'])} ({lic['source']})"
        if lic
        else "Licence: none found"
    )
    conditions = record.get("conditions") or []
    with_conditions = f" with conditions {', '.join(conditions)}" if conditions else ""
    out.append(f"Decision: {decision.upper()} for {purpose}{with_conditions}")
    out += [f"  - {printable(r)}" for r in record["reasons"]]
    return "\n".join(out)
