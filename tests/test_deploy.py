"""Deployment checks (issue 14): what Streamlit Community Cloud installs from ``requirements.txt`` alone is enough
to import every page and engine; every requirement is pinned to the version the tests ran with; the secrets
example is valid TOML once uncommented and names exactly what the code reads; no system package is needed."""

from __future__ import annotations

import ast
import importlib.metadata as md
import platform
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_CODE = [ROOT / "app.py", *sorted((ROOT / "engines").rglob("*.py")), *sorted((ROOT / "app_pages").rglob("*.py"))]


def pinned(path: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """Distribution name (canonical) -> pinned version for this interpreter, from a requirements file.

    Lines whose environment marker does not apply here (torch's build for another platform, pocketsphinx for
    another Python) are left out; options such as ``--find-links`` are skipped.
    """
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        (spec,) = list(requirement.specifier)
        assert spec.operator == "==", f"{path.name}: {line!r} is not pinned as name==version"
        if requirement.marker is None or requirement.marker.evaluate():
            pins[canonicalize_name(requirement.name)] = spec.version
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
        assert md.version(name) == version, f"{name}: requirements.txt pins {version}, installed {md.version(name)}"


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
    assert "Python 3.12" in deploy and "requirements.txt" in deploy and "secrets.toml.example" in deploy
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in {"3.11", "3.12", "3.13"}, (
        "the tests run on a Python the README names"
    )
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "`torch==2.13.0+cpu`" in deploy and "torch==2.13.0+cpu ;" in requirements
    assert "--find-links" in deploy and "--extra-index-url" not in requirements
    for part in ("base", "ml", "media"):
        assert f"`requirements/{part}.txt`" in deploy and (ROOT / "requirements" / f"{part}.txt").is_file()
    assert (ROOT / "app.py").is_file() and "`app.py`" in deploy


def test_no_cuda_package_is_installed():
    # .ci/run installs the README's way in a fresh environment; on Linux x86-64 that must give PyTorch's CPU
    # build and none of the CUDA libraries the package index's torch would pull in (issue 27).
    names = {canonicalize_name(d.metadata["Name"]) for d in md.distributions()}
    cuda = sorted(n for n in names if n.startswith("nvidia-") or n == "triton")
    assert not cuda, f"CUDA packages installed: {cuda}"
    if sys.platform == "linux" and platform.machine() == "x86_64":
        assert md.version("torch").endswith("+cpu"), md.version("torch")
