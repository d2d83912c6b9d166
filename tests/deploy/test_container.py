"""The container image and its orchestration (issue 27): Dockerfile, compose.yaml and deploy/k8s/.

Three layers:

- structural checks that tie the files to each other and to the app: the health path and port, the user id, the
  cache directory, the memory limit, sticky sessions, the autoscaler's target, what the image copies;
- the Kubernetes manifests against the API's JSON schemas (kubernetes-validate, offline, strict);
- checkov's policies over the Dockerfile and the manifests. checkov pins ``packaging<24`` and ``networkx<2.7``,
  which would downgrade what the app's own tests run with, so ``.ci/run`` installs it into its own virtual
  environment, ``.venv-checkov`` (from ``deploy/requirements-lint.txt``); without it these tests skip with the
  command to run, and fail under ``CI=true``. checkov runs with ``--skip-download``, offline.

``GALLERY_TEST_IMAGE=<image>`` (with podman or docker installed) also runs a built image, read-only, and asks it
for ``/`` and ``/_stcore/health`` on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
import urllib.request
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
K8S = ROOT / "deploy" / "k8s"
APP_CODE = [ROOT / "app.py", *sorted((ROOT / "engines").rglob("*.py")), *sorted((ROOT / "app_pages").rglob("*.py"))]

HEALTH_PATH = "/_stcore/health"
PORT = 8501
MEASURED_PEAK_MIB = 1597  # benchmarks.load, 8 concurrent sessions on one server
COMMUNITY_CLOUD_BYTES = 2.7e9  # what the app is sized for elsewhere
CHECKOV_VERSION = "3.3.30"
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")  # an older supported release and the newest schemas shipped
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _missing(reason: str) -> None:
    """Skip outside CI; in CI a missing tool is a failure (it comes with requirements-dev.txt)."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


# ------------------------------------------------------------------ Dockerfile parsing


@cache
def instructions() -> list[tuple[int, str, str]]:
    """(stage index, INSTRUCTION, arguments) for every instruction; continuation lines joined, comments dropped."""
    out: list[tuple[int, str, str]] = []
    stage, pending = -1, ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        word, _, args = text.partition(" ")
        word = word.upper()
        if word == "FROM":
            stage += 1
        out.append((stage, word, args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def stage_instructions(stage: int) -> list[tuple[str, str]]:
    """The instructions of one stage (-1: the last, the image that runs)."""
    last = max(s for s, _, _ in instructions())
    wanted = last if stage == -1 else stage
    return [(word, args) for s, word, args in instructions() if s == wanted]


def exec_form(args: str) -> list[str]:
    """A JSON exec form (``["a", "b"]``) or a shell form, as a list of words."""
    return json.loads(args) if args.startswith("[") else shlex.split(args)


def env_of_final_stage() -> dict[str, str]:
    """ENV key=value pairs of the image that runs."""
    env: dict[str, str] = {}
    for word, args in stage_instructions(-1):
        if word == "ENV":
            for item in shlex.split(args):
                key, sep, value = item.partition("=")
                assert sep, f"ENV {item!r}: use the key=value form"
                env[key] = value
    return env


def image_uid() -> int:
    users = [args for word, args in stage_instructions(-1) if word == "USER"]
    assert users, "the final stage sets no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user.isdigit(), f"USER {user}: use a numeric uid, so Kubernetes' runAsNonRoot can check it"
    return int(user)


# ------------------------------------------------------------------ YAML


@cache
def k8s_documents() -> dict[str, dict]:
    """Kind -> manifest, for every resource in deploy/k8s (one of each kind)."""
    docs: dict[str, dict] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not doc or doc.get("kind") == "Kustomization":
                continue
            assert doc["kind"] not in docs, f"two {doc['kind']} manifests; the checks below expect one"
            docs[doc["kind"]] = doc
    return docs


@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def gallery_service() -> dict:
    services = compose()["services"]
    assert list(services) == ["gallery"], f"compose.yaml: expected the one service 'gallery', found {list(services)}"
    return services["gallery"]


def container() -> dict:
    containers = k8s_documents()["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, "the Deployment's pod has one container"
    return containers[0]


def compose_bytes(value: str | int) -> float:
    """A compose size (``2560M``, ``2.5g``, bytes as a number) in bytes; compose's units are binary."""
    match = re.fullmatch(r"([0-9.]+)\s*([bkmg]?)b?", str(value).strip().lower())
    assert match, f"not a compose size: {value!r}"
    return float(match.group(1)) * {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}[match.group(2)]


def k8s_bytes(value: str) -> float:
    """A Kubernetes memory quantity in bytes (Mi/Gi binary, M/G decimal)."""
    match = re.fullmatch(r"([0-9.]+)(Ki|Mi|Gi|K|M|G)?", str(value))
    assert match, f"not a Kubernetes quantity: {value!r}"
    factor = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 1e3, "M": 1e6, "G": 1e9}[match.group(2)]
    return float(match.group(1)) * factor


def app_reads(name: str) -> bool:
    """Whether the app's code (not the tests) mentions an environment variable name."""
    return any(name in path.read_text(encoding="utf-8") for path in APP_CODE)


def named_port(port: int | str) -> int:
    """A probe's or Service's port (a number or the container port's name) as a number."""
    if isinstance(port, int):
        return port
    ports = {p["name"]: p["containerPort"] for p in container()["ports"]}
    assert port in ports, f"port {port!r} is not one of the container's named ports {ports}"
    return ports[port]


# ------------------------------------------------------------------ the Dockerfile


def test_dockerfile_builds_on_a_slim_python_base_that_a_build_arg_can_replace():
    first = instructions()[0]
    assert first[1] == "ARG" and first[2] == "BASE=python:3.12-slim-bookworm", first
    froms = [args for _, word, args in instructions() if word == "FROM"]
    assert froms and all(f.split()[0] == "${BASE}" for f in froms), froms


def test_dockerfile_installs_requirements_txt_as_it_is():
    build = [stage_instructions(s) for s in range(max(s for s, _, _ in instructions()) + 1)]
    for steps in build:
        copied = [i for i, (w, a) in enumerate(steps) if w == "COPY" and "requirements.txt" in a.split()]
        installs = [
            i for i, (w, a) in enumerate(steps) if w == "RUN" and re.search(r"pip install\b.*-r requirements\.txt", a)
        ]
        if installs:
            assert copied and copied[0] < installs[0], "requirements.txt is installed before it is copied"
            assert all("torch" not in a for w, a in steps if w == "RUN"), "torch comes from requirements.txt alone"
            return
    pytest.fail("no stage copies requirements.txt and runs `pip install -r requirements.txt`")


def test_dockerfile_verifies_the_shipped_models_after_copying_them():
    steps = stage_instructions(-1)
    copies = [i for i, (w, a) in enumerate(steps) if w == "COPY" and re.search(r"(^|\s)assets(\s|$)", a)]
    checks = [i for i, (w, a) in enumerate(steps) if w == "RUN" and "python3 -m engines.build_models --check" in a]
    assert copies, "the image does not copy assets/ (the shipped models)"
    assert checks, "the image build does not run `python -m engines.build_models --check`"
    assert copies[0] < checks[0]


def test_dockerfile_copies_everything_the_app_reads_and_dockerignore_keeps_it():
    copied: set[str] = set()
    for word, args in stage_instructions(-1):
        if word == "COPY" and "--from=" not in args:
            words = [w for w in shlex.split(args) if not w.startswith("--")]
            copied |= set(words[:-1])
    # README.md: the chatbot's knowledge base; data/: the bundled samples; .streamlit/config.toml: upload limit,
    # error details and theme.
    needed = {"app.py", "README.md", "app_pages", "engines", "data", "assets", ".streamlit/config.toml"}
    assert needed <= copied, f"not copied into the image: {sorted(needed - copied)}"
    ignored = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in [*sorted(needed), "requirements.txt"]:
        assert not any(fnmatch(path, pattern) for pattern in ignored), f".dockerignore excludes {path}"
    for pattern in (".venv", ".git", "test-output", "**/__pycache__", ".streamlit/secrets.toml"):
        assert pattern in ignored, f".dockerignore lets {pattern} into the build context"


def test_image_runs_as_an_unprivileged_user_that_owns_only_the_cache():
    uid = image_uid()
    assert uid >= 10000, f"USER {uid}: a high uid keeps clear of the host's users"
    steps = stage_instructions(-1)
    created = " ".join(a for w, a in steps if w == "RUN")
    assert f"--uid {uid}" in created, "the image's user is not created with the uid USER names"
    user_at = max(i for i, (w, _) in enumerate(steps) if w == "USER")
    assert all(w not in {"RUN", "COPY", "ADD"} for w, _ in steps[user_at + 1 :]), "steps after USER run as that user"


def test_image_keeps_its_caches_in_a_volume_and_sets_no_thread_count():
    env = env_of_final_stage()
    cache_dir = env.get("GALLERY_CACHE_DIR")
    assert cache_dir, "GALLERY_CACHE_DIR is not set in the image"
    assert app_reads("GALLERY_CACHE_DIR")
    volumes = [v for w, a in stage_instructions(-1) if w == "VOLUME" for v in exec_form(a)]
    assert cache_dir in volumes, f"VOLUME {volumes} does not hold the cache directory {cache_dir}"
    for name in ("HF_HOME", "XDG_CACHE_HOME"):
        assert env.get(name, "").startswith(cache_dir + "/"), f"{name} is outside the cache volume"
    # engines/core/threads.py sizes the pools from the container's CPU quota; a fixed value would override it.
    assert "OMP_NUM_THREADS" not in env
    assert "GALLERY_THREADS" not in env


def test_image_health_check_asks_streamlit_without_curl():
    checks = [a for w, a in stage_instructions(-1) if w == "HEALTHCHECK"]
    assert len(checks) == 1, "one HEALTHCHECK in the image that runs"
    command = checks[0].split(" CMD ", 1)[1]
    assert re.search(rf"['\"]http://127\.0\.0\.1:{PORT}{HEALTH_PATH}['\"]", command), command
    assert exec_form(command)[0] == "python3" and "urllib.request" in command and "curl" not in command


def test_image_serves_streamlit_on_all_interfaces():
    steps = stage_instructions(-1)
    assert ("EXPOSE", str(PORT)) in steps
    cmd = exec_form([a for w, a in steps if w == "CMD"][-1])
    assert cmd[:3] == ["streamlit", "run", "app.py"], cmd
    options = dict(zip(cmd[3::2], cmd[4::2], strict=True))
    assert options == {"--server.address": "0.0.0.0", "--server.port": str(PORT), "--server.headless": "true"}


# ------------------------------------------------------------------ compose.yaml


def test_compose_limits_memory_above_the_measured_peak():
    service = gallery_service()
    limits = service["deploy"]["resources"]["limits"]
    memory = compose_bytes(limits["memory"])
    assert MEASURED_PEAK_MIB * 2**20 * 1.4 < memory <= COMMUNITY_CLOUD_BYTES, limits["memory"]
    assert float(limits["cpus"]) >= 1
    budget = int(service["environment"]["GALLERY_MEMORY_BUDGET_MB"]) * 2**20
    assert budget < memory, "the app's cache-release budget must be below the container's memory limit"


def test_compose_keeps_the_cache_in_a_named_volume_and_checks_health():
    service = gallery_service()
    cache_dir = env_of_final_stage()["GALLERY_CACHE_DIR"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in service["volumes"]}
    assert cache_dir in mounts, f"compose mounts nothing at {cache_dir}"
    assert mounts[cache_dir] in compose()["volumes"], "the cache is not a named volume"
    assert f"{PORT}:{PORT}" in service["ports"]
    assert service["restart"] in {"always", "unless-stopped", "on-failure"}
    test = " ".join(service["healthcheck"]["test"])
    assert re.search(rf"['\"]http://127\.0\.0\.1:{PORT}{HEALTH_PATH}['\"]", test), test
    assert service["read_only"] is True and any(t.startswith("/tmp") for t in service["tmpfs"])


def test_compose_passes_only_settings_the_app_reads():
    service = gallery_service()
    for name in (
        "GALLERY_ICE_SERVERS",
        "GALLERY_LLM_URL",
        "GALLERY_LLM_MODEL",
        "GALLERY_LLM_API_KEY",
        "GALLERY_OPERATOR_TOKEN",
    ):
        assert name in service["environment"], f"compose.yaml does not pass {name}"
        # No value: taken from the shell, unset without it. podman-compose 1.0 passed "${NAME:-}" on literally, which
        # made a 26-character operator token that anyone could read here.
        assert service["environment"][name] is None, f"compose.yaml gives {name} a value; leave it to the shell"
    for name in service["environment"]:
        assert name == "HF_TOKEN" or app_reads(name), f"compose.yaml sets {name}, which the app never reads"


# ------------------------------------------------------------------ Kubernetes


def test_every_manifest_is_in_the_kustomization_and_namespace():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    for kind, doc in k8s_documents().items():
        if kind != "Namespace":
            assert doc["metadata"]["namespace"] == kustomization["namespace"], kind
    assert {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "PersistentVolumeClaim"} <= set(
        k8s_documents()
    )


def test_probes_ask_streamlits_health_endpoint_on_the_container_port():
    ports = [p["containerPort"] for p in container()["ports"]]
    assert ports == [PORT], ports
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container()[probe]["httpGet"]
        assert get["path"] == HEALTH_PATH, probe
        assert named_port(get["port"]) == PORT, probe
    startup = container()["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120, "the first start gets at least 2 minutes"


def test_pod_runs_as_the_images_user_with_a_read_only_root():
    pod = k8s_documents()["Deployment"]["spec"]["template"]["spec"]
    security = container()["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == security["runAsUser"] == image_uid()
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert security["readOnlyRootFilesystem"] is True


def test_everything_the_pod_writes_is_a_mounted_volume():
    pod = k8s_documents()["Deployment"]["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in container().get("env", [])}
    cache_dir = env.get("GALLERY_CACHE_DIR") or env_of_final_stage()["GALLERY_CACHE_DIR"]
    assert cache_dir == env_of_final_stage()["GALLERY_CACHE_DIR"]
    mounts = {m["mountPath"]: m["name"] for m in container()["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "/tmp" in mounts and "emptyDir" in volumes[mounts["/tmp"]]
    assert cache_dir in mounts, f"nothing is mounted at the cache directory {cache_dir}"
    claim = volumes[mounts[cache_dir]]["persistentVolumeClaim"]["claimName"]
    pvc = k8s_documents()["PersistentVolumeClaim"]
    assert claim == pvc["metadata"]["name"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"], "every replica shares the cache"


def test_pod_memory_and_cpu_are_bounded():
    resources = container()["resources"]
    memory = k8s_bytes(resources["limits"]["memory"])
    assert MEASURED_PEAK_MIB * 2**20 * 1.4 < memory <= COMMUNITY_CLOUD_BYTES
    assert k8s_bytes(resources["requests"]["memory"]) <= memory
    assert resources["requests"]["cpu"] and resources["limits"]["cpu"], "the autoscaler needs a CPU request"
    env = {e["name"]: e.get("value") for e in container().get("env", [])}
    assert int(env["GALLERY_MEMORY_BUDGET_MB"]) * 2**20 < memory


def test_ingress_keeps_each_visitor_on_one_pod():
    ingress = k8s_documents()["Ingress"]
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/affinity-mode"] == "persistent"
    assert notes["nginx.ingress.kubernetes.io/session-cookie-name"]
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 600, "WebSockets outlive 60 s"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    service = k8s_documents()["Service"]
    backends = [p["backend"]["service"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    service_ports = {p["name"]: p for p in service["spec"]["ports"]}
    for backend in backends:
        assert backend["name"] == service["metadata"]["name"]
        assert backend["port"]["name"] in service_ports
    for port in service_ports.values():
        assert named_port(port["targetPort"]) == PORT


def test_service_and_budget_select_the_deployments_pods():
    labels = k8s_documents()["Deployment"]["spec"]["template"]["metadata"]["labels"]
    selectors = {
        "Service": k8s_documents()["Service"]["spec"]["selector"],
        "PodDisruptionBudget": k8s_documents()["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
        "Deployment": k8s_documents()["Deployment"]["spec"]["selector"]["matchLabels"],
    }
    for kind, selector in selectors.items():
        assert selector and selector.items() <= labels.items(), kind


def test_autoscaler_targets_the_deployment():
    hpa = k8s_documents()["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    deployment = k8s_documents()["Deployment"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        "apps/v1",
        "Deployment",
        deployment["metadata"]["name"],
    )
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300, "scaling down ends sessions"


def test_manifests_match_the_kubernetes_schemas():
    try:
        import kubernetes_validate
    except ImportError:
        _missing("kubernetes-validate is not installed (pip install -r requirements-dev.txt)")
    for version in KUBERNETES_VERSIONS:
        for kind, doc in k8s_documents().items():
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{kind} does not match the Kubernetes {version} schema: {exc.message} at {list(exc.path)}")


# ------------------------------------------------------------------ checkov


@pytest.fixture(scope="session")
def checkov() -> list[str]:
    """The command that runs checkov from its own virtual environment, made by .ci/run (no network here)."""
    python = ROOT / ".venv-checkov" / "bin" / "python"
    if not python.exists():
        _missing(
            "checkov is not installed: python3 -m venv .venv-checkov && "
            ".venv-checkov/bin/pip install -r deploy/requirements-lint.txt (what .ci/run does)"
        )
    pinned = (ROOT / "deploy" / "requirements-lint.txt").read_text(encoding="utf-8")
    assert f"checkov=={CHECKOV_VERSION}" in pinned
    return [str(python), "-m", "checkov.main"]


def run_checkov(checkov: list[str], *target: str) -> dict:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_CREATE_MARKDOWN_HYPERLINKS": "False"}
    done = subprocess.run(
        [*checkov, *target, "--skip-download", "--compact", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert isinstance(report, dict), "checkov scanned more than one framework"
    return report


def assert_clean(report: dict, min_resources: int) -> None:
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['check_name']} ({c['file_path']}:{c['file_line_range']})"
        for c in report["results"]["failed_checks"]
    ]
    assert not failed, "checkov findings:\n" + "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= min_resources and summary["passed"] >= 20, summary
    for skipped in report["results"]["skipped_checks"]:
        reason = (skipped.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason) >= 20, f"{skipped['check_id']} is skipped without a reason"


@pytest.mark.slow
def test_checkov_passes_the_dockerfile(checkov):
    assert_clean(run_checkov(checkov, "--framework", "dockerfile", "-f", str(DOCKERFILE)), 1)


@pytest.mark.slow
def test_checkov_passes_the_kubernetes_manifests(checkov):
    assert_clean(run_checkov(checkov, "--framework", "kubernetes", "-d", str(K8S)), len(k8s_documents()))


# ------------------------------------------------------------------ a built image, when one is named


@pytest.mark.slow
def test_a_built_image_starts_read_only_and_answers_health():
    image = os.environ.get("GALLERY_TEST_IMAGE", "").strip()
    if not image:
        pytest.skip("set GALLERY_TEST_IMAGE to a built image (docs/deploy.md) to run it")
    engine = shutil.which("podman") or shutil.which("docker")
    if engine is None:
        pytest.skip("neither podman nor docker is installed")
    name = f"ml-gallery-test-{os.getpid()}"
    host_port = 18501
    subprocess.run(
        [engine, "run", "-d", "--rm", "--name", name, "--read-only", "--tmpfs", "/tmp", "--memory", "2560m",
         "--cpus", "2", "-p", f"127.0.0.1:{host_port}:{PORT}",
         "-e", "GALLERY_OFFLINE=1", image],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    try:
        deadline, health = time.monotonic() + 180, ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{host_port}{HEALTH_PATH}", timeout=3) as response:
                    health = response.read().decode()
                    break
            except OSError:
                time.sleep(1)
        assert health == "ok", "the container never answered its health endpoint"
        with urllib.request.urlopen(f"http://127.0.0.1:{host_port}/", timeout=10) as response:
            assert response.status == 200 and b"<html" in response.read().lower()
    finally:
        subprocess.run([engine, "rm", "-f", name], capture_output=True, timeout=60, check=False)
