"""Serve the archive with pywb: the collection `dcs`, at http://HOST:PORT/dcs/<ts>/<url>.

The pywb configuration is generated under DIR/replay/ (config.yaml, collections/dcs/) and
points at DIR/warc/ and DIR/index/index.cdxj; the index is brought up to date first. Replay
is framed (pywb's default): the page is shown under a banner in an iframe whose own URL is
/dcs/<ts>mp_/<url>; the calendar of captures of a URL is /dcs/*/<url>.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import signal
import socket
import sys
import warnings
from pathlib import Path

import yaml

from crawler.errors import DcsError
from crawler.layout import Layout
from crawler.replay.index import IndexResult, build_index, index_path, warc_files
from crawler.replay.report import damage_lines

COLLECTION = "dcs"
REPLAY_DIR = "replay"


def write_config(out_dir: str | os.PathLike) -> Path:
    """Write DIR/replay/config.yaml (+ collections/dcs/metadata.yaml) for pywb; returns its path."""
    out = Path(out_dir).resolve()
    replay = out / REPLAY_DIR
    coll_dir = replay / "collections" / COLLECTION
    coll_dir.mkdir(parents=True, exist_ok=True)
    (coll_dir / "metadata.yaml").write_text(
        yaml.safe_dump({"title": "dangcongsan.vn archive"}), encoding="utf-8"
    )
    config_path = replay / "config.yaml"
    text = "# Written by dcs-archiver (`dcs replay serve`); rewritten on every start.\n"
    text += yaml.safe_dump(pywb_config(out), sort_keys=False)
    config_path.write_text(text, encoding="utf-8")
    return config_path


def pywb_config(out_dir: str | os.PathLike) -> dict:
    """pywb's configuration for an archive folder (absolute paths: any working directory works)."""
    out = Path(out_dir).resolve()
    replay = out / REPLAY_DIR
    return {
        "collections_root": str(replay / "collections"),
        # Only the `dcs` collection: no auto-discovered ones from the working directory.
        "enable_auto_colls": False,
        "collections": {
            COLLECTION: {
                "index_paths": str(index_path(out)),
                "archive_paths": str(Layout.of(out).warc_dir.resolve()) + os.sep,
            }
        },
        # Templates/static overrides would be looked up relative to the working directory.
        "templates_dir": str(replay / "templates"),
        "static_dir": str(replay / "static"),
        "framed_replay": True,
        "enable_memento": True,
    }


def prepare(out_dir: str | os.PathLike) -> tuple[Path, IndexResult]:
    """Update the index and write the pywb config: what `serve` does before listening."""
    out = Path(out_dir)
    if not out.is_dir():
        raise DcsError(f"archive folder {out} does not exist")
    if not warc_files(out):
        raise DcsError(f"no WARC files in {Layout.of(out).warc_dir}: nothing to replay")
    result = build_index(out)
    return write_config(out), result


def serve(out_dir: str | os.PathLike, host: str = "127.0.0.1", port: int = 8080) -> list[str]:
    """Serve the archive with pywb at http://HOST:PORT/dcs/ until interrupted (Ctrl-C).

    Returns the damaged WARC files, one line each (reported when it starts)."""
    check_port(host, port)  # the commonest failure: say so before indexing anything
    config_path, result = prepare(out_dir)
    for line in damage_lines(result.problems, "its whole records are replayed"):
        print(line, file=sys.stderr)

    # pywb's front end talks to its own WARC server over HTTP in the same process: it needs
    # gevent's cooperative sockets, as pywb's own `wayback` command sets up on import.
    from gevent import monkey

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "ssl already imported": pywb's upstream is plain http
        monkey.patch_all()
    import gevent
    from gevent.pywsgi import WSGIServer
    from pywb.apps.frontendapp import FrontEndApp
    from pywb.utils.geventserver import RequestURIWSGIHandler

    app = FrontEndApp(config_file=str(config_path), custom_config=pywb_config(out_dir))
    server = WSGIServer((host, port), app, handler_class=RequestURIWSGIHandler)
    try:
        server.init_socket()
    except OSError as exc:  # taken between the check and now
        raise DcsError(_bind_error(exc, host, port)) from None

    base = f"http://{_url_host(host)}:{server.address[1]}"
    print(f"Replaying {Path(out_dir)} ({result.entries} captures) at {base}/{COLLECTION}/")
    print(f"  open  {base}/{COLLECTION}/*/https://dangcongsan.vn/*  to list the archived pages")
    if not _is_loopback(host):
        print(f"  note: listening on {host}: other machines can reach this server", file=sys.stderr)
    print("  press Ctrl-C to stop", flush=True)
    # Ctrl-C or a TERM signal ends serve_forever quietly (gevent would print the interrupt).
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, server.stop, 1)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop(timeout=1)
    return result.problems


def check_port(host: str, port: int) -> None:
    """Raise a one-line DcsError if HOST:PORT cannot be listened on (in use, not allowed...)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        raise DcsError(f"cannot listen on {host}: {exc}; check --host") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As the server will: SO_REUSEADDR ignores old connections, not a live listener.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
            probe.listen(1)
        except OSError as exc:
            raise DcsError(_bind_error(exc, host, port)) from None


def _bind_error(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use on {host}; choose another with --port"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port} on {host}; choose another with --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: no such address on this machine; check --host"
    reason = exc.strerror or str(exc)
    return f"cannot listen on {host}:{port}: {reason}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"  # a wildcard bind is reachable on loopback too
    return f"[{host}]" if ":" in host else host
