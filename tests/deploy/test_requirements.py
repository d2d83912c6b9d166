"""The requirement files (issue 27): one full file for Community Cloud made of three parts a deployer can leave
out, every line pinned, PyTorch's CPU build taken from a find-links page (never an extra index, which uv would
prefer for every package it lists), and the resolution check's verdicts. The resolution itself needs the package
index, so ``.ci/run`` runs ``python -m deploy.check_requirements`` before these tests; here it runs offline."""

from __future__ import annotations

import hashlib
import tomllib
import urllib.request
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from deploy import check_requirements as check

ROOT = Path(__file__).resolve().parents[2]
PARTS = ["base", "ml", "media"]


def lines(path: Path) -> list[str]:
    """The meaningful lines of a requirements file: requirements and options, no comments or blanks."""
    return [s for s in (line.strip() for line in path.read_text(encoding="utf-8").splitlines()) if s and s[0] != "#"]


def test_requirements_txt_is_its_three_parts_line_for_line():
    parts = [line for part in PARTS for line in lines(ROOT / "requirements" / f"{part}.txt")]
    assert lines(ROOT / "requirements.txt") == parts


def test_every_requirement_is_pinned_and_the_only_option_is_the_cpu_torch_page():
    for path in [ROOT / "requirements.txt", *(ROOT / "requirements" / f"{p}.txt" for p in PARTS)]:
        for line in lines(path):
            if line.startswith("-"):
                assert line == f"--find-links {check.TORCH_PAGE}", f"{path.name}: unexpected option {line!r}"
                continue
            requirement = Requirement(line)
            (spec,) = list(requirement.specifier)  # exactly one specifier
            assert spec.operator == "==" and "*" not in spec.version, f"{path.name}: {line!r} is not pinned"


def test_torch_is_the_cpu_build_on_linux_x86_and_the_plain_release_elsewhere():
    torch = [r for r in check.pins() if r.name == "torch"]
    linux = check.Target("3.12", "x86_64-manylinux_2_28").marker_env
    mac = check.Target("3.12", "aarch64-apple-darwin").marker_env
    assert [str(r.specifier) for r in torch if r.marker.evaluate(linux)] == ["==2.13.0+cpu"]
    assert [str(r.specifier) for r in torch if r.marker.evaluate(mac)] == ["==2.13.0"]
    ml = (ROOT / "requirements" / "ml.txt").read_text(encoding="utf-8")
    assert "--extra-index-url" not in ml and "--index-url" not in ml


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13"])
def test_pocketsphinx_has_exactly_one_pin_with_a_wheel_for_each_python(python):
    # 5.1.1 publishes wheels for 3.11 and 3.13 only; 5.0.4 for 3.12 (checked against the package index)
    env = check.Target(python, "x86_64-manylinux_2_28").marker_env
    chosen = [str(r.specifier) for r in check.pins() if r.name == "pocketsphinx" and r.marker.evaluate(env)]
    assert chosen == ({"3.12": ["==5.0.4"]}.get(python, ["==5.1.1"]))


def test_requires_python_names_the_versions_the_check_resolves():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    allowed = SpecifierSet(project["requires-python"])
    pythons = {t.python for t in check.TARGETS}
    assert pythons == {"3.11", "3.12", "3.13"}
    assert all(f"{p}.0" in allowed for p in pythons) and "3.14.0" not in allowed and "3.10.0" not in allowed


GOOD = {"numpy": "2.4.6", "torch": "2.13.0+cpu", "pocketsphinx": "5.0.4"}
REQS = [
    Requirement("numpy==2.4.6"),
    Requirement('torch==2.13.0+cpu ; sys_platform == "linux" and platform_machine == "x86_64"'),
    Requirement('torch==2.13.0 ; sys_platform != "linux" or platform_machine != "x86_64"'),
    Requirement('pocketsphinx==5.0.4 ; python_version == "3.12"'),
    Requirement('pocketsphinx==5.1.1 ; python_version == "3.11" or python_version == "3.13"'),
]
LINUX_312 = check.Target("3.12", "x86_64-manylinux_2_28")


def test_the_check_accepts_a_cpu_resolution():
    assert check.problems(LINUX_312, GOOD, REQS) == []


@pytest.mark.parametrize(
    ("lock", "expected"),
    [
        (GOOD | {"nvidia-cublas": "13.4.1.3", "triton": "3.9.0"}, "CUDA packages chosen: nvidia-cublas, triton"),
        (GOOD | {"torch": "2.13.0"}, "torch 2.13.0 is not the CPU build"),
        (GOOD | {"numpy": "2.4.5"}, "numpy resolved to 2.4.5, pinned ==2.4.6"),
        ({k: v for k, v in GOOD.items() if k != "pocketsphinx"}, "pocketsphinx is required but not in the resolution"),
    ],
)
def test_the_check_rejects_cuda_another_torch_a_moved_pin_or_a_missing_package(lock, expected):
    assert expected in check.problems(LINUX_312, lock, REQS)


def test_the_uv_output_parser_reads_pins_and_ignores_comments():
    text = "# header\nnumpy==2.4.6\n    # via pandas\ntorch==2.13.0+cpu\nPyYAML==6.0.4 ; python_version >= '3.11'\n"
    assert check.parse_lock(text) == {"numpy": "2.4.6", "torch": "2.13.0+cpu", "pyyaml": "6.0.4"}


def test_the_stand_in_page_serves_the_real_cpu_metadata_on_loopback(tmp_path):
    url = check.stand_in_page(tmp_path, ["3.12"])
    assert url.startswith("http://127.0.0.1:")
    page = urllib.request.urlopen(url, timeout=10).read().decode()
    name = "torch-2.13.0+cpu-cp312-cp312-manylinux_2_28_x86_64.whl"
    assert name in page
    metadata = urllib.request.urlopen(url + name.replace("+", "%2B") + ".metadata", timeout=10).read()
    assert f"sha256={hashlib.sha256(metadata).hexdigest()}" in page
    assert b"Version: 2.13.0+cpu" in metadata and b"nvidia" not in metadata
