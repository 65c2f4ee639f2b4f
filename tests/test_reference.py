"""The reference pages in docs/ and the code agree, both ways: every ``CCSIGNALS_*``
setting, ``ccsignals/`` stats key, provenance field, audit-log field and command option
that exists is documented, and everything documented exists. Each failure says what to
add (or remove) where."""

from __future__ import annotations

import argparse
import ast
import re
from importlib import import_module
from pathlib import Path

import pytest
from scrapy.commands import ScrapyCommand
from scrapy.settings import Settings

from scrapy_ccsignals import schemas
from scrapy_ccsignals.config import DEFAULT_SETTINGS
from tests.scrapy_cli import declared_commands

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "scrapy_ccsignals"
DOCS = ROOT / "docs"


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def table_keys(text: str) -> list[str]:
    """The backticked names in the first column of a page's Markdown tables."""
    return re.findall(r"^\| `([^`]+)` \|", text, re.M)


# --- settings -----------------------------------------------------------------------------


def test_settings_page_matches_config():
    documented = re.findall(r"^## (CCSIGNALS_\w+)$", page("settings.md"), re.M)
    missing = [name for name in DEFAULT_SETTINGS if name not in documented]
    extra = [name for name in documented if name not in DEFAULT_SETTINGS]
    assert not missing, (
        f"settings in scrapy_ccsignals/config.py DEFAULT_SETTINGS without a section in "
        f"docs/settings.md: {missing}. Add, in alphabetical order, '## NAME' followed by "
        f"'`type`, default `value`.' and what it does."
    )
    assert not extra, (
        f"docs/settings.md documents settings config.py does not have: {extra}; "
        f"remove their sections (or add them to DEFAULT_SETTINGS)"
    )
    # Enable flag first, the rest alphabetical: in the code and on the page.
    assert documented[0] == "CCSIGNALS_ENABLED" and documented[1:] == sorted(documented[1:])
    names = list(DEFAULT_SETTINGS)
    assert names[0] == "CCSIGNALS_ENABLED" and names[1:] == sorted(names[1:])


_SETTING_NAME = re.compile(r"CCSIGNALS_[A-Z0-9_]*[A-Z0-9]")


def setting_names_read() -> dict[str, list[str]]:
    """Every ``CCSIGNALS_*`` name the package's code holds as a string (what it reads,
    checks or names in an error), but not the keys of ``DEFAULT_SETTINGS`` itself, with the
    files naming it."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip: set[int] = set()
        for node in ast.walk(tree):
            target = getattr(node, "target", None) or next(iter(getattr(node, "targets", [])), None)
            if isinstance(target, ast.Name) and target.id == "DEFAULT_SETTINGS":
                value = getattr(node, "value", None)
                if isinstance(value, ast.Dict):
                    skip.update(id(key) for key in value.keys)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
            ):
                for name in _SETTING_NAME.findall(node.value):
                    found.setdefault(name, []).append(path.relative_to(ROOT).as_posix())
    return found


def test_every_setting_the_code_names_is_known():
    """The unknown-setting warning knows only ``DEFAULT_SETTINGS``: a setting the code
    reads but that is missing there would be reported as a typo (and left undocumented);
    one there that nothing reads is a setting that does nothing."""
    read = setting_names_read()
    unknown = {name: files for name, files in read.items() if name not in DEFAULT_SETTINGS}
    assert not unknown, (
        f"CCSIGNALS_* names in the code that config.DEFAULT_SETTINGS lacks: {unknown}. Add "
        f"them there (with their default) and to docs/settings.md"
    )
    unread = [name for name in DEFAULT_SETTINGS if name not in read]
    assert not unread, f"settings in DEFAULT_SETTINGS that no code reads: {unread}"


# --- stats --------------------------------------------------------------------------------

#: One path segment whose value is computed (an f-string field, a placeholder on the page).
ANY = "*"


def code_stats() -> tuple[dict[str, str], dict[str, str]]:
    """The ``ccsignals/`` stats keys the package writes, as segment patterns (``*`` for a
    computed segment) -> where; and the prefixes it reads stats by (``'ccsignals/deny/'``).

    Written keys: string literals (``"ccsignals/items/passed"``), f-strings
    (``f"ccsignals/rsl/{outcome}"`` -> ``ccsignals/rsl/*``) and a literal ending in ``/``
    with something added to it (``"ccsignals/forbidden/robots.txt/" + why``)."""
    written: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        added = {
            id(node.left)
            for node in ast.walk(tree)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)
        }
        in_fstring = {
            id(value)
            for node in ast.walk(tree)
            if isinstance(node, ast.JoinedStr)
            for value in node.values
        }
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.JoinedStr):
                first = node.values[0] if node.values else None
                if isinstance(first, ast.Constant) and str(first.value).startswith("ccsignals/"):
                    text = "".join(
                        str(v.value) if isinstance(v, ast.Constant) else "\0" for v in node.values
                    )
                    key = "/".join(ANY if "\0" in seg else seg for seg in text.split("/"))
                    written.setdefault(key, where)
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("ccsignals/")
                and id(node) not in in_fstring
            ):
                if not node.value.endswith("/"):
                    written.setdefault(node.value, where)
                elif id(node) in added:
                    written.setdefault(node.value + ANY, where)
                elif node.value != "ccsignals/":
                    prefixes.setdefault(node.value, where)
    return written, prefixes


def documented_stats() -> list[str]:
    """The keys in the first column of docs/stats.md's table, ``.../x`` expanded against
    the key before it (``ccsignals/robots/parsed``, ``.../unavailable``)."""
    keys: list[str] = []
    for row in re.findall(r"^\| (`ccsignals/[^|]*)\|", page("stats.md"), re.M):
        previous = ""
        for key in re.findall(r"`([^`]+)`", row):
            if key.startswith(".../"):
                key = previous.rsplit("/", 1)[0] + key[3:]
            if key.startswith("ccsignals/"):
                keys.append(key)
                previous = key
    return keys


def segments_match(code: str, doc: str) -> bool:
    """A code pattern and a documented key name the same stat: same number of segments,
    each equal, or a computed segment (``*`` in code, ``<name>`` on the page)."""
    a, b = code.split("/"), doc.split("/")
    return len(a) == len(b) and all(
        x in (y, ANY) or (y.startswith("<") and y.endswith(">")) for x, y in zip(a, b, strict=True)
    )


def test_every_stats_key_the_code_writes_is_documented():
    written, prefixes = code_stats()
    documented = documented_stats()
    assert len(written) > 30, "the scan of the code found too few stats keys: fix code_stats()"
    missing = {
        key: where
        for key, where in written.items()
        if not any(segments_match(key, doc) for doc in documented)
    }
    missing |= {
        prefix + "...": where
        for prefix, where in prefixes.items()
        if not any(doc.startswith(prefix) for doc in documented)
    }
    assert not missing, (
        "stats keys written in the code but not in docs/stats.md; add a row "
        "'| `KEY` | what it counts |' for each (a computed part as <name>, e.g. "
        "`ccsignals/rsl/<outcome>`, or list the values):\n  "
        + "\n  ".join(f"{key}  ({where})" for key, where in missing.items())
    )


def test_every_documented_stats_key_is_written_by_the_code():
    written, _ = code_stats()
    # A pattern whose first segment is computed (f"ccsignals/{decision}/{family}") only
    # stands for documented keys that have a computed segment too.
    specific = [key for key in written if key.split("/")[1] != ANY]
    generic = [key for key in written if key.split("/")[1] == ANY]
    unknown = [
        doc
        for doc in documented_stats()
        if not any(segments_match(key, doc) for key in specific)
        and not ("<" in doc and any(segments_match(key, doc) for key in generic))
    ]
    assert not unknown, (
        f"docs/stats.md documents keys no code writes: {unknown}; remove the rows, or fix "
        f"the key to the one the code writes"
    )


def test_stats_scan_sees_literals_fstrings_and_concatenation():
    written, prefixes = code_stats()
    assert "ccsignals/deny/" in prefixes
    assert "ccsignals/items/passed" in written
    assert "ccsignals/rsl/*" in written
    assert "ccsignals/forbidden/robots.txt/*" in written
    assert segments_match("ccsignals/*/*", "ccsignals/deny/<family>")
    assert not segments_match("ccsignals/robots/*", "ccsignals/robots/status/<code>")


# --- provenance and audit fields ----------------------------------------------------------


def nested_names(schema: dict) -> set[str]:
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.get("properties", {}).items():
                names.add(key)
                walk(value)
            for key in ("$defs", "items"):
                if isinstance(node.get(key), dict):
                    walk(node[key] if key == "items" else None)
                    if key == "$defs":
                        for sub in node[key].values():
                            walk(sub)
            for key in ("oneOf", "allOf"):
                for sub in node.get(key, []):
                    walk(sub)

    walk(schema)
    return names


def test_provenance_page_lists_every_field_of_the_record():
    schema = schemas.load("provenance")
    fields = set(schema["properties"])
    text = page("provenance.md")
    documented = set(table_keys(text))
    assert fields - documented == set(), (
        f"provenance fields (scrapy_ccsignals/schemas/provenance.schema.json) without a row in "
        f"docs/provenance.md's field table: {sorted(fields - documented)}; add "
        f"'| `FIELD` | meaning |'"
    )
    assert documented - fields == set(), (
        f"docs/provenance.md lists fields the record does not have: "
        f"{sorted(documented - fields)}; add them to provenance.schema.json (the schema "
        f"test checks the code writes them) or remove the rows"
    )
    unnamed = sorted(n for n in nested_names(schema) - fields if f"`{n}`" not in text)
    assert not unnamed, (
        f"fields inside the provenance record that docs/provenance.md never names: {unnamed}; "
        f"describe each (in backticks) in its parent field's row"
    )


def test_audit_log_page_lists_every_field_of_a_line():
    fields = set(schemas.load("audit-line")["properties"])
    text = page("audit-log.md")
    documented = set(table_keys(text.split("## Fields", 1)[-1]))
    assert fields - documented == set(), (
        f"audit-line fields (scrapy_ccsignals/schemas/audit-line.schema.json) without a row in "
        f"docs/audit-log.md's '## Fields' table: {sorted(fields - documented)}; add "
        f"'| `FIELD` | on which lines | meaning |' (and to the stage table above it)"
    )
    assert documented - fields == set(), (
        f"docs/audit-log.md lists fields a line does not have: {sorted(documented - fields)}"
    )


# --- commands -----------------------------------------------------------------------------


def options_of(command: ScrapyCommand) -> list[tuple[str, ...]]:
    """Each option of *command*, as its spellings (``("-o", "--output")``)."""
    command.settings = Settings()
    parser = argparse.ArgumentParser()
    command.add_options(parser)
    return [tuple(action.option_strings) for action in parser._actions if action.option_strings]


class _Bare(ScrapyCommand):
    """Scrapy's command base with nothing of its own: the options every command has."""

    def short_desc(self) -> str:
        return ""

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        pass


def scrapy_global_options() -> set[str]:
    return {spelling for option in options_of(_Bare()) for spelling in option}


def command_section(name: str) -> str:
    text = page("commands.md")
    match = re.search(rf"^## {re.escape(name)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/commands.md has no '## {name}' section: add one (synopsis, options)"
    return match.group(1)


@pytest.mark.parametrize("name", sorted(declared_commands()))
def test_command_options_match_the_commands_page(name):
    module, cls = declared_commands()[name].split(":")
    command = getattr(import_module(module), cls)()
    common = scrapy_global_options()
    own = [option for option in options_of(command) if not set(option) <= common]
    section = command_section(name)
    mentioned = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])\b", section))
    missing = sorted("/".join(option) for option in own if not set(option) & mentioned)
    assert not missing, (
        f"options of scrapy {name} not described in docs/commands.md '## {name}': {missing}; "
        f"add each to the synopsis and say what it does"
    )
    spellings = {spelling for option in own for spelling in option}
    unknown = sorted(mentioned - spellings - common)
    assert not unknown, (
        f"docs/commands.md '## {name}' mentions options the command does not have: {unknown}"
    )


def test_every_command_has_a_section():
    sections = re.findall(r"^## (ccsignals-[\w-]+)$", page("commands.md"), re.M)
    assert sorted(sections) == sorted(declared_commands()), (
        "docs/commands.md needs one '## NAME' section per command in pyproject.toml's "
        "scrapy.commands entry points"
    )


# --- the documentation stands alone -------------------------------------------------------

#: What a user reading the docs does not have: the project's internal rulebook and its
#: revisions, and placeholders they would copy.
INTERNAL = re.compile(
    r"(?<![\w-])SIGNALS\.md|\b[Rr]ulebook\b|\(r\d\)|\br\d\b(?![-.\w])|\.\./shared|\bOWNER\b"
)


def user_pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(DOCS.rglob("*.md"))]


def test_the_docs_cite_no_internal_file_and_no_placeholder():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}"
        for path in user_pages()
        if "_build" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INTERNAL.search(line)
    ]
    assert not found, (
        "user-facing pages cite the internal rulebook or carry a placeholder; say which "
        "external specification the rule follows instead:\n  " + "\n  ".join(found)
    )


def test_the_standalone_check_catches_what_the_old_readme_had():
    for line in (
        "is needed by the use gate only (SIGNALS.md r2): it is fetched",
        'pip install "scrapy-ccsignals @ git+https://github.com/OWNER/scrapy-ccsignals.git"',
        "One exception (r2): when the RSL family allows",
    ):
        assert INTERNAL.search(line), line
    for line in ("RFC 9309 section 2.3.1.4", "draft-ietf-aipref-vocab -07", "rsl-license"):
        assert not INTERNAL.search(line), line


def test_the_readme_is_a_front_page():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, "README.md is the front page: move reference text into docs/"
    head = "\n".join(lines[:12])
    for command in (
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python -m example_project",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest",
    ):
        assert f"    {command}\n" in head + "\n", f"README's first lines lost: {command}"
    targets = re.findall(r"\]\(((?:docs/|CHANGELOG|LICENSE)[^)#]*)", "\n".join(lines))
    assert targets, "README links into the docs"
    broken = [t for t in targets if not (ROOT / t).exists()]
    assert not broken, f"README links to files that do not exist: {broken}"
