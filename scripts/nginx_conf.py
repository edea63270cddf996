"""Lay out a private nginx for ``make run`` and the tests, the way the official nginx image does.

    python scripts/nginx_conf.py PREFIX [--gateway] [--frontend] [--certs DIR]

The official image renders ``/etc/nginx/templates/*.template`` into ``conf.d/`` with envsubst,
then runs ``/docker-entrypoint.d/*.sh`` (nginx/README.md). This does the same under PREFIX,
with a main ``nginx.conf`` whose pid, logs and temporary files stay under PREFIX too:

    PREFIX/nginx.conf         events + http { include mime.types; include conf.d/*.conf; }
    PREFIX/mime.types         the system's (/etc/nginx/mime.types), else a short list
    PREFIX/prosaas/           nginx/prosaas/ (the gateway's static includes)
    PREFIX/certs/             --certs DIR's fullchain.pem and privkey.pem: TLS
    PREFIX/conf.d/*.conf      nginx/templates/ (--gateway), nginx/frontend/templates/ (--frontend)

then runs nginx/docker-entrypoint.d/40-prosaas-tls.sh, which keeps the plain or the TLS
servers. Start it with ``nginx -p PREFIX -c PREFIX/nginx.conf -g 'daemon off;'``.

Variables come from the environment, else from the image's defaults
(nginx/docker-entrypoint.d/15-prosaas-defaults.envsh, nginx/frontend/...); a ``${NAME}``
that is set nowhere is an error naming it, never left in the output (envsubst would leave it).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["GATEWAY", "FRONTEND", "RenderError", "defaults", "main", "prepare", "render"]

ROOT = Path(__file__).resolve().parents[1]
GATEWAY = ROOT / "nginx"
FRONTEND = ROOT / "nginx" / "frontend"
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# envsubst also replaces $NAME without braces; nginx's own variables are lower case, so an
# upper-case $NAME in a template is a mistake either way.
_BARE = re.compile(r"\$([A-Z_][A-Z0-9_]*)\b")
_DEFAULT = re.compile(r'^export ([A-Z_][A-Z0-9_]*)="\$\{\1:-(.*)\}"$', re.MULTILINE)
# A value is spliced into nginx's syntax: these would end or open a directive or a block.
_UNSAFE = re.compile(r"[;{}'\"\\\n\r$#]")
_MIME_TYPES = """types {
    text/html html htm;
    text/css css;
    text/plain txt;
    application/javascript js mjs;
    application/json json map;
    application/manifest+json webmanifest;
    image/svg+xml svg;
    image/png png;
    image/x-icon ico;
    font/woff2 woff2;
}
"""


class RenderError(ValueError):
    """A template names a variable that is not set, or a value would break nginx's syntax."""


def render(text: str, env: Mapping[str, str], source: str = "template") -> str:
    """Replace every ``${NAME}`` in ``text`` with ``env[NAME]``.

    Raises:
        RenderError: naming every unset variable (or unsafe value) and ``source``.
    """
    bare = sorted({m.group(1) for m in _BARE.finditer(text)})
    if bare:
        raise RenderError(f"{source}: write ${{NAME}} with braces: {', '.join('$' + n for n in bare)}")
    names = sorted({m.group(1) for m in _REFERENCE.finditer(text)})
    missing = [name for name in names if name not in env]
    if missing:
        raise RenderError(f"{source}: unset variable(s): {', '.join(missing)}")
    unsafe = [name for name in names if not env[name].strip() or _UNSAFE.search(env[name])]
    if unsafe:
        raise RenderError(
            f"{source}: empty value, or one with ; {{ }} quotes $ # or a newline: {', '.join(unsafe)}"
        )
    return _REFERENCE.sub(lambda m: env[m.group(1)], text)


def defaults(envsh: Path) -> dict[str, str]:
    """The ``export NAME="${NAME:-value}"`` defaults of an image's ``*.envsh`` file."""
    return dict(_DEFAULT.findall(envsh.read_text()))


def _main_conf() -> str:
    # Workers run as the user nginx starts as; as root they would become "nobody", who cannot
    # read a private temporary directory.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\n"
        "pid nginx.pid;\n"
        "error_log logs/error.log notice;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "    include mime.types;\n"
        "    default_type application/octet-stream;\n"
        "    access_log logs/access.log;\n"
        "    sendfile on;\n"
        "    keepalive_timeout 65;\n"
        "    client_body_temp_path temp/client_body;\n"
        "    proxy_temp_path temp/proxy;\n"
        "    fastcgi_temp_path temp/fastcgi;\n"
        "    uwsgi_temp_path temp/uwsgi;\n"
        "    scgi_temp_path temp/scgi;\n"
        "    include conf.d/*.conf;\n"
        "}\n"
    )


def prepare(
    prefix: Path,
    *,
    gateway: bool = True,
    frontend: bool = False,
    env: Mapping[str, str] | None = None,
    certs: Path | None = None,
) -> Path:
    """Write the layout of the module docstring under ``prefix``; returns its ``nginx.conf``.

    Raises:
        RenderError: a template variable is unset or unsafe.
        RuntimeError: 40-prosaas-tls.sh refused the result (its message).
    """
    environ = os.environ if env is None else env
    values: dict[str, str] = {}
    sources: list[Path] = []
    if gateway:
        values |= defaults(GATEWAY / "docker-entrypoint.d" / "15-prosaas-defaults.envsh")
        sources += sorted((GATEWAY / "templates").glob("*.template"))
    if frontend:
        values |= defaults(FRONTEND / "docker-entrypoint.d" / "15-frontend-defaults.envsh")
        sources += sorted((FRONTEND / "templates").glob("*.template"))
    referenced = {m.group(1) for src in sources for m in _REFERENCE.finditer(src.read_text())}
    values |= {name: environ[name] for name in referenced if name in environ}
    rendered = {src.name.removesuffix(".template"): render(src.read_text(), values, str(src)) for src in sources}

    if prefix.exists():
        shutil.rmtree(prefix)
    for sub in ("conf.d", "logs", "temp"):
        (prefix / sub).mkdir(parents=True)
    (prefix / "nginx.conf").write_text(_main_conf())
    system_types = Path("/etc/nginx/mime.types")
    (prefix / "mime.types").write_text(system_types.read_text() if system_types.is_file() else _MIME_TYPES)
    if gateway:
        shutil.copytree(GATEWAY / "prosaas", prefix / "prosaas")
    if certs is not None:
        (prefix / "certs").mkdir()
        for name in ("fullchain.pem", "privkey.pem"):
            if (certs / name).exists():
                shutil.copy2(certs / name, prefix / "certs" / name)
    for name, text in rendered.items():
        (prefix / "conf.d" / name).write_text(text)
    if gateway:
        done = subprocess.run(
            ["sh", str(GATEWAY / "docker-entrypoint.d" / "40-prosaas-tls.sh")],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NGINX_CONF_DIR": str(prefix)},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip() or done.stdout.strip())
    return prefix / "nginx.conf"


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (see the module docstring)."""
    p = argparse.ArgumentParser(prog="scripts/nginx_conf.py", description=__doc__.split("\n\n")[0])
    p.add_argument("prefix", type=Path)
    p.add_argument("--gateway", action="store_true", help="the gateway (nginx/templates)")
    p.add_argument("--frontend", action="store_true", help="the SPA's server (nginx/frontend/templates)")
    p.add_argument("--certs", type=Path, help="a directory with fullchain.pem and privkey.pem: TLS")
    args = p.parse_args(argv)
    if not (args.gateway or args.frontend):
        p.error("give --gateway, --frontend or both")
    try:
        conf = prepare(args.prefix.resolve(), gateway=args.gateway, frontend=args.frontend, certs=args.certs)
    except (RenderError, RuntimeError) as exc:
        print(f"nginx_conf: {exc}", file=sys.stderr)
        return 1
    print(conf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
