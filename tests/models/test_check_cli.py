"""The kiln command line around `check`: explain, help, version, bad arguments and the
generated docs/errors.md."""

from __future__ import annotations

import re

import pytest

from conftest import REPO

# The documented interface (docs/cli.md / the lead's brief): every flag must show in --help.
SUBCOMMAND_FLAGS = {
    "check": ["--json", "--strict", "--no-onnx-checker", "--help"],
    "explain": ["--list", "--markdown", "--json", "--help"],
    "ops": ["--json", "--help"],
    "build": ["--int8", "--calib", "--calib-algo", "--calib-percentile", "--calib-cache",
              "--calib-min-samples", "--strict", "--layer-precision", "--help"],
    "compare": ["--engine", "--input", "--atol", "--rtol", "--per-layer", "--json", "--shapes",
                "--int8", "--calib", "--calib-cache", "--help"],
}
CODE_RE = re.compile(r"^K\d{4}$")


@pytest.fixture(scope="module")
def catalog(kiln):
    r = kiln.run("explain", "--list", "--json")
    assert r.returncode == 0, r.describe()
    entries = r.json()
    assert isinstance(entries, list) and entries, r.describe()
    return entries


def test_catalog_codes_are_well_formed_and_unique(catalog):
    codes = [e["code"] for e in catalog]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    bad = [c for c in codes if not CODE_RE.match(c)]
    assert bad == []
    for e in catalog:
        for key in ("title", "category", "causes", "fix"):
            assert e.get(key), f"{e['code']} has an empty {key}"


def test_explain_every_code(kiln, catalog):
    failures = []
    for e in catalog:
        r = kiln.run("explain", e["code"])
        problems = []
        if r.returncode != 0:
            problems.append(f"exit {r.returncode}")
        for what in (e["code"], e["title"], e["category"], "Fix"):
            if what not in r.stdout:
                problems.append(f"output lacks {what!r}")
        if problems:
            failures.append(f"{e['code']}: {', '.join(problems)}\n{r.describe()}")
    assert not failures, "\n".join(failures)


def test_explain_accepts_code_without_k_and_lowercase(kiln):
    canonical = kiln.run("explain", "K1004")
    assert canonical.returncode == 0, canonical.describe()
    for spelling in ("1004", "k1004"):
        r = kiln.run("explain", spelling)
        assert (r.returncode, r.stdout) == (0, canonical.stdout), r.describe()


def test_explain_list_human_matches_json(kiln, catalog):
    r = kiln.run("explain", "--list")
    assert r.returncode == 0, r.describe()
    listed = [ln.split()[0] for ln in r.stdout.splitlines() if ln.strip()]
    assert listed == [e["code"] for e in catalog]


@pytest.mark.parametrize("code", ["K9999", "K0000", "banana", "K10044"])
def test_explain_unknown_code(kiln, code):
    r = kiln.run("explain", code)
    assert r.returncode == 2, r.describe()
    assert "K3002" in r.stderr, r.describe()
    assert code in r.stderr, r.describe()


def test_version(kiln, check_json):
    r = kiln.run("--version")
    assert r.returncode == 0, r.describe()
    m = re.fullmatch(r"kiln (\d+\.\d+\.\d+\S*)\n", r.stdout)
    assert m, r.describe()
    _, report = check_json("ppocr_cls.onnx")
    assert report["kiln_version"] == m.group(1)


def test_top_level_help(kiln):
    r = kiln.run("--help")
    assert r.returncode == 0, r.describe()
    for word in [*SUBCOMMAND_FLAGS, "--help", "--version"]:
        assert word in r.stdout, f"`kiln --help` does not mention {word}\n{r.describe()}"


@pytest.mark.parametrize("sub", SUBCOMMAND_FLAGS)
def test_subcommand_help_mentions_every_flag(kiln, sub):
    r = kiln.run(sub, "--help")
    assert r.returncode == 0, r.describe()
    missing = [f for f in SUBCOMMAND_FLAGS[sub] if f not in r.stdout]
    assert missing == [], r.describe()


@pytest.mark.parametrize("args", [
    ["check", "--bogus", "model.onnx"],
    ["--bogus"],
    ["explain", "--lsit"],
    ["check"],  # the model argument is required
    [],  # a subcommand is required
    ["frobnicate"],
], ids=["check-bad-flag", "top-bad-flag", "explain-typo", "check-no-model", "no-subcommand",
        "unknown-subcommand"])
def test_bad_arguments_exit_with_k3001(kiln, args):
    r = kiln.run(*args)
    assert r.returncode != 0, r.describe()
    assert r.returncode == 2, r.describe()
    assert "K3001" in r.stderr, r.describe()


def test_docs_errors_md_is_generated(kiln):
    doc = REPO / "docs" / "errors.md"
    r = kiln.run("explain", "--markdown")
    assert r.returncode == 0, r.describe()
    if not doc.is_file():
        pytest.fail("docs/errors.md does not exist; regenerate it with "
                    "`kiln explain --markdown > docs/errors.md`", pytrace=False)
    if doc.read_text(encoding="utf-8") != r.stdout:
        pytest.fail("docs/errors.md differs from `kiln explain --markdown` (the catalog in "
                    "src/core/errors.def changed); regenerate it with "
                    "`kiln explain --markdown > docs/errors.md`", pytrace=False)


def test_markdown_has_a_section_per_code(kiln, catalog):
    r = kiln.run("explain", "--markdown")
    sections = re.findall(r"^## (K\d{4})$", r.stdout, re.M)
    assert sections == [e["code"] for e in catalog]
