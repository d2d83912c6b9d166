"""Deployment checks (issue 14): what Streamlit Community Cloud installs from ``requirements.txt`` alone is enough
to import every page and engine; every requirement is pinned to the version the tests ran with; the secrets
example is valid TOML once uncommented and names exactly what the code reads; no system package is needed."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_CODE = [ROOT / "app.py", *sorted((ROOT / "engines").rglob("*.py")), *sorted((ROOT / "app_pages").rglob("*.py"))]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)$")


def pinned(path: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """Distribution name (canonical) -> pinned version, from a requirements file."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "--")):
            continue
        match = PIN.match(line)
        assert match, f"requirements.txt: {line!r} is not pinned as name==version"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def closure(names: set[str]) -> set[str]:
    """The distributions installed with ``names``: their requirements, recursively (markers evaluated here)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        for spec in requires:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def runtime_imports() -> set[str]:
    """Top-level modules imported anywhere in the app's code (not the tests), outside the standard library."""
    found: set[str] = set()
    for path in RUNTIME_CODE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in {"engines", "app_pages", "__future__"}}


def test_requirements_are_pinned_to_what_is_installed():
    for name, version in pinned().items():
        installed = md.version(name).split("+")[0]  # a local label such as torch's "+cpu" names the same release
        assert installed == version, f"{name}: requirements.txt pins {version}, installed {md.version(name)}"


def test_every_runtime_import_comes_with_requirements_txt_alone():
    provided = closure(set(pinned()))
    owners = md.packages_distributions()
    missing = {}
    for module in sorted(runtime_imports()):
        dists = {canonicalize_name(d) for d in owners.get(module, [])}
        assert dists, f"{module} is imported by the app but no installed distribution provides it"
        if not dists & provided:
            missing[module] = sorted(dists)
    assert not missing, f"imported by the app but not installed by requirements.txt: {missing}"


def test_the_dev_requirements_are_not_needed_at_run_time():
    dev = set(pinned(ROOT / "requirements-dev.txt"))
    used = set()
    owners = md.packages_distributions()
    for module in runtime_imports():
        used |= {canonicalize_name(d) for d in owners.get(module, [])}
    assert not (dev - set(pinned())) & used, "the app imports a package only requirements-dev.txt installs"


def uncommented(example: str) -> str:
    """The secrets example with its commented-out TOML switched on (prose comments dropped)."""
    lines = []
    for line in example.splitlines():
        body = line[2:] if line.startswith("# ") else None
        if body is not None and re.match(r"^(\[[\w.]+\]|[A-Za-z_][\w]*\s*=|\s+\{|\]|\s*\])", body):
            lines.append(body)
    return "\n".join(lines)


def test_the_secrets_example_is_valid_toml_and_names_what_the_code_reads():
    example = (ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8")
    secrets = tomllib.loads(uncommented(example))
    assert {"HF_TOKEN", "GALLERY_LLM_URL", "GALLERY_LLM_MODEL", "GALLERY_LLM_API_KEY", "webrtc", "newsapi"} <= set(
        secrets
    ), secrets.keys()
    assert any(server["urls"][0].startswith("turn:") for server in secrets["webrtc"]["ice_servers"])
    assert secrets["newsapi"]["key"]
    code = "\n".join(p.read_text(encoding="utf-8") for p in RUNTIME_CODE)
    for name in ("GALLERY_LLM_URL", "GALLERY_LLM_MODEL", "GALLERY_LLM_API_KEY"):
        assert f'"{name}"' in code, f"{name} is in the secrets example but the code never reads it"
    assert 'st.secrets.get("webrtc"' in code and 'st.secrets.get("newsapi"' in code
    assert not (ROOT / ".streamlit" / "secrets.toml").exists() or ".streamlit/secrets.toml" in (
        ROOT / ".gitignore"
    ).read_text(encoding="utf-8"), "a real secrets file must never be committed"


def test_no_system_package_is_needed_at_run_time():
    # Community Cloud installs apt packages only from packages.txt; the app calls no external program
    # (PocketSphinx's models ship in its wheel, PyAV and OpenCV bundle their codecs).
    # The one exception: the decoder sandbox starts this same Python (sys.executable) as its worker process.
    sandbox = ROOT / "engines" / "core" / "sandbox.py"
    code = "\n".join(p.read_text(encoding="utf-8") for p in RUNTIME_CODE if p != sandbox)
    assert "subprocess" not in code and "shutil.which" not in code and "os.system" not in code
    worker = sandbox.read_text(encoding="utf-8")
    assert "sys.executable" in worker and "shutil.which" not in worker and "os.system" not in worker
    assert not (ROOT / "packages.txt").exists(), "packages.txt exists: say in the README why it is needed"


def test_the_readme_deploy_section_matches_the_project():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    deploy = readme.split("## Deploy to Streamlit Community Cloud", 1)[1].split("\n## ", 1)[0]
    assert "Python 3.11" in deploy and "requirements.txt" in deploy and "secrets.toml.example" in deploy
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == "3.11", (
        "the tests run on the Python the README names"
    )
    torch = pinned()["torch"]
    assert f"`{torch}`" in deploy, f"the README's deploy section should name the pinned torch {torch}"
    assert (ROOT / "app.py").is_file() and "`app.py`" in deploy
