"""C2PA manifests: the CAWG training-and-data-mining assertion (SIGNALS.md, "Asset metadata").

A C2PA manifest store embedded in a file may carry a ``cawg.training-mining`` assertion
(CAWG Training and Data Mining Assertion 1.1, section 3) or its C2PA 1.x predecessor
``c2pa.training-mining`` (C2PA 1.4, "Training and Data Mining"): a map of entries, each
``{"use": "allowed" | "notAllowed" | "constrained", "constraint_info": text}``. Per the CAWG
text, ``constrained`` without further information is ``notAllowed``. What each entry means
for the crawl's purpose is the rulebook's:

- ``ai_generative_training`` / ``ai_training`` → ``train-ai``;
- ``ai_inference`` → ``ai-input``;
- ``data_mining`` → ``train-ai`` and ``ai-input``.

The manifest store is read with the optional ``c2pa-python`` library (the ``c2pa`` extra),
imported lazily so the package works without it. Only the *active* manifest counts (it is
the one that describes this asset; earlier manifests describe its ingredients). Remote
manifests are not fetched, nor is anything else (no I/O here). Signature trust is not required, as for unsigned
XMP: a deny is honoured whatever the validation state, but a manifest the library finds
``Invalid`` (the asset or the assertion was altered after signing) cannot allow anything —
its ``allowed`` entries become ``unknown``. Corrupt or truncated files give no signal.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from scrapy_ccsignals.signals.base import ALLOW, DENY, LAYER_FILE, UNKNOWN, Signal
from scrapy_ccsignals.signals.c2pa_containers import may_carry_manifest
from scrapy_ccsignals.signals.xmp import sniff

FAMILY = "c2pa"

#: Outcomes of :func:`read_c2pa`.
AVAILABLE = "available"  # a manifest store was read (entries may be empty)
NONE = "none"  # the file carries no embedded manifest
REMOTE = "remote"  # the file points at a remote manifest, which is not fetched
NOT_INSTALLED = "not-installed"  # the c2pa extra is missing: C2PA was not read
ERROR = "error"  # corrupt, truncated or unsupported data

#: Assertion labels, current first (an instance suffix ``__N`` is ignored).
ASSERTION_LABELS = ("cawg.training-mining", "c2pa.training-mining")

#: Entry name (without its ``cawg.``/``c2pa.`` prefix) -> the purposes it governs.
ENTRY_PURPOSES: dict[str, frozenset[str]] = {
    "ai_generative_training": frozenset({"train-ai"}),
    "ai_training": frozenset({"train-ai"}),
    "ai_inference": frozenset({"ai-input"}),
    "data_mining": frozenset({"train-ai", "ai-input"}),
}
USE_EFFECTS = {"allowed": ALLOW, "notallowed": DENY, "constrained": DENY}

#: Content types worth handing to :func:`read_c2pa` (formats c2pa-rs embeds manifests in).
C2PA_CONTENT_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/avif",
        "image/heic",
        "image/heif",
        "image/tiff",
        "image/gif",
        "image/jxl",
        "image/svg+xml",
        "image/dng",
        "application/pdf",
        "video/mp4",
        "video/quicktime",
        "video/x-msvideo",
        "audio/mpeg",
        "audio/mp4",
        "audio/wav",
        "audio/x-wav",
        "audio/flac",
    }
)

MAX_ENTRIES = 32  # entries kept per assertion; a hostile manifest cannot flood provenance
MAX_TEXT = 300  # characters kept of constraint_info and error texts
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REMOTE_RE = re.compile(r"^Remote: .*? from url (\S+)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class TrainingMiningEntry:
    label: str  # the assertion's label, e.g. "cawg.training-mining"
    name: str  # the entry as written, e.g. "cawg.ai_inference"
    use: str  # as written: "allowed", "notAllowed", "constrained" (or something else)
    constraint_info: str = ""


@dataclass(frozen=True, slots=True)
class C2paResult:
    """What the file's C2PA manifest store says, or why it was not read."""

    status: str
    entries: tuple[TrainingMiningEntry, ...] = ()
    manifest: str = ""  # the active manifest's label (a urn:c2pa:... URN)
    validation_state: str = ""  # the library's verdict: "Invalid", "Valid" or "Trusted"
    signer: str = ""  # issuer and common name of the signing certificate, as the library gives
    detail: str = ""  # error text, or the remote manifest URL

    def as_dict(self) -> dict[str, object]:
        """Provenance form (JSON-ready)."""
        data: dict[str, object] = {"status": self.status}
        for key in ("manifest", "validation_state", "signer", "detail"):
            if value := getattr(self, key):
                data[key] = value
        if self.entries:
            data["entries"] = [
                {"label": e.label, "name": e.name, "use": e.use}
                | ({"constraint_info": e.constraint_info} if e.constraint_info else {})
                for e in self.entries
            ]
        return data


def media_type(content_type: str) -> str:
    """``image/JPEG; charset=x`` -> ``image/jpeg``."""
    return content_type.split(";", 1)[0].strip().lower()


def wants_c2pa(content_type: str) -> bool:
    """Whether a response of this Content-Type may carry an embedded C2PA manifest."""
    return media_type(content_type) in C2PA_CONTENT_TYPES


#: Containers told by their first bytes (:func:`~scrapy_ccsignals.signals.xmp.sniff`) and
#: the media type the library reads them as.
SNIFFED_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "gif": "image/gif",
    "pdf": "application/pdf",
}


def c2pa_media_type(content_type: str, head: bytes) -> str:
    """The type to read a file's manifest as, or "" when it cannot carry one.

    The first bytes decide when they name a container, as they do for XMP: servers send
    images as ``application/octet-stream``, as the unregistered ``image/jpg`` or with no
    type, and a manifest's "notAllowed" must not be missed for it. Otherwise the
    Content-Type decides (SVG, BMFF and audio formats the sniffer does not tell)."""
    sniffed = SNIFFED_TYPES.get(sniff(head[:1024]), "")
    if sniffed:
        return sniffed
    mime = media_type(content_type)
    return mime if mime in C2PA_CONTENT_TYPES else ""


@lru_cache(maxsize=1)
def _library() -> tuple[Any, Any] | None:
    """The ``c2pa`` module and a reading context, or None without the extra.

    One context for the process, which lets the library contact no host at all: it would
    otherwise download what a file points at from inside a parser, outside Scrapy (a
    remote manifest, OCSP responses, the ``did:web`` document of a CAWG identity
    assertion's issuer: Adobe Content Authenticity's files name one). An identity that
    cannot be resolved makes the manifest ``Invalid``, which may deny but never allow.
    """
    try:
        import c2pa  # the optional extra, imported on first use
    except (ImportError, OSError):  # OSError: the wheel's native library failed to load
        return None
    try:
        settings = c2pa.Settings.from_dict(
            {
                "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
                "core": {"allowed_network_hosts": []},  # c2pa-rs: no request to any host
            }
        )
        return c2pa, c2pa.Context(settings)
    except Exception:  # a version without these settings: unusable, never a crashed crawl
        return None


def c2pa_installed() -> bool:
    """Whether the ``c2pa`` extra is usable (the integrator logs it once per crawl if not)."""
    return _library() is not None


def _text(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return _CONTROL.sub(" ", text)[:MAX_TEXT]


def read_c2pa(body: bytes, content_type: str) -> C2paResult:
    """Read the training-mining entries of the active manifest embedded in *body*.

    Never raises: corrupt, truncated or unsupported data is an ``error`` result.
    """
    lib = _library()
    if lib is None:
        return C2paResult(NOT_INSTALLED, detail="c2pa-python is not installed")
    if not may_carry_manifest(body):  # a few µs, where the library takes 0.1-1 ms
        return C2paResult(NONE)
    mime = media_type(content_type)
    c2pa, context = lib
    # A type the library does not know is detected from the bytes instead.
    fmt = mime if mime in C2PA_CONTENT_TYPES else None
    try:
        reader = c2pa.Reader(fmt, io.BytesIO(body), None, context)
    except c2pa.C2paError.ManifestNotFound:
        return C2paResult(NONE)
    except Exception as exc:  # the native library's verdict on hostile bytes, whatever it is
        remote = _REMOTE_RE.search(str(exc))
        if remote:  # "Remote: must fetch remote manifests from url <url>"
            return C2paResult(REMOTE, detail=_text(remote.group(1)))
        return C2paResult(ERROR, detail=_text(f"{type(exc).__name__}: {exc}"))
    try:
        with reader:
            if not reader.is_embedded():
                return C2paResult(REMOTE, detail=_text(reader.get_remote_url() or ""))
            store = json.loads(reader.json())
    except Exception as exc:
        return C2paResult(ERROR, detail=_text(f"{type(exc).__name__}: {exc}"))
    return parse_store(store)


def parse_store(store: object) -> C2paResult:
    """The result for a manifest store as the library's ``Reader.json()`` gives it."""
    if not isinstance(store, dict):
        return C2paResult(ERROR, detail="manifest store is not a JSON object")
    label = store.get("active_manifest")
    manifests = store.get("manifests")
    if not isinstance(label, str) or not isinstance(manifests, dict):
        return C2paResult(NONE)
    manifest = manifests.get(label)
    if not isinstance(manifest, dict):
        return C2paResult(ERROR, manifest=_text(label), detail="active manifest missing")
    state = store.get("validation_state")
    info = manifest.get("signature_info")
    signer = ""
    if isinstance(info, dict):
        signer = ", ".join(_text(info[k]) for k in ("issuer", "common_name") if info.get(k))
    return C2paResult(
        AVAILABLE,
        entries=training_mining_entries(manifest.get("assertions")),
        manifest=_text(label),
        validation_state=_text(state) if isinstance(state, str) else "",
        signer=signer,
    )


def training_mining_entries(assertions: object) -> tuple[TrainingMiningEntry, ...]:
    """The entries of the manifest's training-mining assertions, CAWG ones first."""
    if not isinstance(assertions, list):
        return ()
    found: list[TrainingMiningEntry] = []
    for wanted in ASSERTION_LABELS:
        for assertion in assertions:
            if not isinstance(assertion, dict):
                continue
            label = assertion.get("label")
            if not isinstance(label, str) or label.split("__", 1)[0] != wanted:
                continue
            data = assertion.get("data")
            entries = data.get("entries") if isinstance(data, dict) else None
            if not isinstance(entries, dict):
                continue
            for name, entry in list(entries.items())[:MAX_ENTRIES]:
                if not isinstance(entry, dict):
                    continue
                info = entry.get("constraint_info", entry.get("constraints_info", ""))
                found.append(
                    TrainingMiningEntry(
                        _text(label), _text(name), _text(entry.get("use", "")), _text(info or "")
                    )
                )
    return tuple(found)


def entry_purposes(name: str) -> frozenset[str]:
    """Purposes a pre-defined entry governs (``cawg.`` or ``c2pa.`` prefix); custom: none."""
    prefix, _, rest = name.partition(".")
    if prefix not in ("cawg", "c2pa"):
        return frozenset()
    return ENTRY_PURPOSES.get(rest, frozenset())


def c2pa_signals(result: C2paResult, purpose: str, source: str) -> list[Signal]:
    """The signals a read manifest gives for *purpose*; *source* is the file's URL.

    Entries that do not govern the purpose (or say something unknown) are recorded as
    ``unknown``; an ``Invalid`` manifest's ``allowed`` entries too.
    """
    signals = []
    for entry in result.entries:
        effect = entry_effect(entry.name, entry.use, purpose, result.validation_state)
        raw = f"{entry.label} {entry.name}: {entry.use}"
        if entry.constraint_info:
            raw += f" ({entry.constraint_info})"
        signals.append(Signal(FAMILY, LAYER_FILE, source, effect, raw, f"{entry.name}={entry.use}"))
    return signals


def entry_effect(name: str, use: str, purpose: str, validation_state: str) -> str:
    """What one entry (``name``, ``use``) says for *purpose*: its use's effect when it
    governs the purpose, else unknown; an ``Invalid`` manifest may deny, never allow."""
    effect = USE_EFFECTS.get(use.lower(), UNKNOWN)
    if purpose not in entry_purposes(name) or (effect == ALLOW and validation_state == "Invalid"):
        return UNKNOWN
    return effect
