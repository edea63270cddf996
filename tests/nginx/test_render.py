"""Rendering the templates (scripts/nginx_conf.py, as the official image's envsubst does) and
choosing plain or TLS (nginx/docker-entrypoint.d/40-prosaas-tls.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.nginx.conftest import NGINX, ROOT, SERVER_NAME, make_certificate, nginx_conf

TEMPLATES = sorted((ROOT / "nginx").rglob("*.template"))
SCRIPT = ROOT / "nginx" / "docker-entrypoint.d" / "40-prosaas-tls.sh"
IMAGE_DEFAULTS = nginx_conf.defaults(ROOT / "nginx" / "docker-entrypoint.d" / "15-prosaas-defaults.envsh")


def test_an_unset_variable_is_an_error_naming_it() -> None:
    with pytest.raises(nginx_conf.RenderError, match="unset variable.*: A, B"):
        nginx_conf.render("x ${B} ${A} ${C}", {"C": "1"})


def test_a_bare_upper_case_reference_is_an_error() -> None:
    with pytest.raises(nginx_conf.RenderError, match=r"\$API_UPSTREAM"):
        nginx_conf.render("proxy_pass http://$API_UPSTREAM;", {"API_UPSTREAM": "api:5000"})


@pytest.mark.parametrize("value", ["a; include /etc/passwd", "a}", "", "x\ny", "$host", "a # b"])
def test_a_value_that_would_break_the_syntax_is_refused(value: str) -> None:
    with pytest.raises(nginx_conf.RenderError, match="SERVER_NAME"):
        nginx_conf.render("server_name ${SERVER_NAME};", {"SERVER_NAME": value})


def test_rendering_leaves_nginx_variables_alone() -> None:
    assert nginx_conf.render("return 308 https://$host${X}$request_uri;", {"X": ":8443"}) == (
        "return 308 https://$host:8443$request_uri;"
    )


def test_the_body_limit_is_the_apis_upload_limit() -> None:
    from api.settings import DEFAULT_MAX_UPLOAD_BYTES
    from api.validation import MULTIPART_OVERHEAD_BYTES

    size = IMAGE_DEFAULTS["CLIENT_MAX_BODY_SIZE"]
    assert size.endswith("k") and int(size[:-1]) * 1024 == DEFAULT_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES


def test_server_name_has_no_default() -> None:
    assert "SERVER_NAME" not in IMAGE_DEFAULTS
    with pytest.raises(nginx_conf.RenderError, match="SERVER_NAME"):
        nginx_conf.prepare(Path("/nonexistent/never-written"), env={})


@pytest.mark.skipif(shutil.which("envsubst") is None, reason="needs envsubst (gettext-base)")
@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_the_renderer_matches_the_images_envsubst(template: Path) -> None:
    env = {**IMAGE_DEFAULTS, "SERVER_NAME": "app.example.com", "FRONTEND_LISTEN": "80", "SPA_ROOT": "/srv/spa"}
    # what 20-envsubst-on-templates.sh runs: envsubst limited to the defined variables
    defined = " ".join(f"${{{name}}}" for name in env)
    image = subprocess.run(["envsubst", defined], input=template.read_text(), env=env,
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert nginx_conf.render(template.read_text(), env, template.name) == image


def _image_layout(tmp_path: Path, env: dict[str, str]) -> Path:
    """/etc/nginx as the official image leaves it after 20-envsubst-on-templates.sh."""
    etc = tmp_path / "etc"
    (etc / "conf.d").mkdir(parents=True)
    for template in (ROOT / "nginx" / "templates").glob("*.template"):
        defined = " ".join(f"${{{name}}}" for name in env)
        text = subprocess.run(["envsubst", defined], input=template.read_text(), env=env,
                              capture_output=True, text=True, check=True).stdout  # fmt: skip
        (etc / "conf.d" / template.name.removesuffix(".template")).write_text(text)
    return etc


def _choose(etc: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(SCRIPT)], env={"PATH": os.environ["PATH"], "NGINX_CONF_DIR": str(etc)},
                          capture_output=True, text=True, check=False)  # fmt: skip


@pytest.mark.skipif(shutil.which("envsubst") is None, reason="needs envsubst (gettext-base)")
def test_the_image_refuses_to_start_without_server_name(tmp_path: Path) -> None:
    etc = _image_layout(tmp_path, dict(IMAGE_DEFAULTS))
    done = _choose(etc)
    assert done.returncode == 1 and "${SERVER_NAME}" in done.stderr


def test_no_certificate_is_plain_http(tmp_path: Path) -> None:
    conf = nginx_conf.prepare(tmp_path / "etc", env={"SERVER_NAME": SERVER_NAME})
    assert sorted(p.name for p in (conf.parent / "conf.d").iterdir()) == ["prosaas-plain.conf", "prosaas.conf"]
    check = subprocess.run([NGINX, "-t", "-p", str(conf.parent), "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_both_certificate_files_are_tls(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path / "certs")
    conf = nginx_conf.prepare(tmp_path / "etc", env={"SERVER_NAME": SERVER_NAME}, certs=cert.directory)
    assert sorted(p.name for p in (conf.parent / "conf.d").iterdir()) == ["prosaas-tls.conf", "prosaas.conf"]
    check = subprocess.run([NGINX, "-t", "-p", str(conf.parent), "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_one_certificate_file_alone_is_refused(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path / "certs")
    (cert.directory / "privkey.pem").unlink()
    with pytest.raises(RuntimeError, match="only one of .*fullchain.pem and .*privkey.pem exists"):
        nginx_conf.prepare(tmp_path / "etc", env={"SERVER_NAME": SERVER_NAME}, certs=cert.directory)


def test_the_choice_survives_a_second_run(tmp_path: Path) -> None:
    conf = nginx_conf.prepare(tmp_path / "etc", env={"SERVER_NAME": SERVER_NAME})
    again = _choose(conf.parent)
    assert again.returncode == 0, again.stderr
    assert (conf.parent / "conf.d" / "prosaas-plain.conf").exists()


def test_nothing_rendered_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "etc" / "conf.d").mkdir(parents=True)
    done = _choose(tmp_path / "etc")
    assert done.returncode == 1 and "were the templates rendered" in done.stderr


@pytest.mark.parametrize("script", sorted((ROOT / "nginx").rglob("docker-entrypoint.d/*")), ids=lambda p: p.name)
def test_entrypoint_scripts_are_executable(script: Path) -> None:
    # the image's entrypoint skips a .sh or .envsh file that is not ("Ignoring …, not executable")
    mode = subprocess.run(["git", "ls-files", "-s", str(script.relative_to(ROOT))], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    assert mode and mode[0] == "100755", (script, mode)
