"""`python -m compendium fetch` against a local Zenodo: an http.server on 127.0.0.1 (ephemeral port, one
thread, stopped after each test) that serves a record and its files in the API's format.

Nothing here reaches another host: every connection is checked to go to 127.0.0.1 (the guard below
fails the test otherwise), and the one "no DNS" case replaces urlopen itself.
"""

import hashlib
import json
import os
import random
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from compendium import paths
from compendium.data import fetch
from compendium.run import runner

RECORD = fetch.DEFAULT_RECORD
COHORT = paths.SYNTHETIC_COHORT.read_bytes()  # in the dictionary's format: `run` comes next
FOREIGN = (Path(__file__).parent / "bad_inputs" / "mostly_foreign_header.csv").read_bytes()  # `map` comes next
NOTES = bytes(random.Random(7).getrandbits(8) for _ in range(300_000))  # several blocks: the progress moves
README = (paths.ROOT / "README.md").read_text()
FETCH_AS_WRITTEN = ".venv/bin/python -m compendium fetch --record 16091434 --to data/raw/"
STALL_LIMIT = 10  # seconds a stalling handler waits at most, released at the end of every test


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    real = socket.create_connection

    def connect(address, *args, **kwargs):
        assert address[0] == "127.0.0.1", f"a test tried to reach {address[0]}"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", connect)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        zenodo = self.server.zenodo
        path = urlsplit(self.path).path
        zenodo.requests.append(path)
        if path not in zenodo.routes:
            return self._send(404, json.dumps({"status": 404, "message": "not found"}).encode(), "application/json")
        body, kind, stall = zenodo.routes[path]
        if stall == "before":
            zenodo.release.wait(STALL_LIMIT)
        self._send(200, body, kind, stall=stall)

    def _send(self, status, body, kind, stall=None):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if stall == "during":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.server.zenodo.release.wait(STALL_LIMIT)
                body = body[len(body) // 2:]
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def log_message(self, *args):
        pass


class LocalZenodo:
    """A record and its files as zenodo.org/api serves them, on 127.0.0.1."""

    def __init__(self):
        self.routes, self.requests, self.release = {}, [], threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.zenodo = self
        self.api = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, files: dict[str, bytes], record=RECORD, *, served=None, missing=(), stall=None,
                record_stall=None, form="legacy"):
        """Serve record ``record`` listing ``files``; ``served`` overrides what a file's link returns."""
        entries = []
        for key, body in files.items():
            link = f"{self.api}/records/{record}/files/{quote(key)}/content"
            entries.append({"id": f"id-{key}", "key": key, "size": len(body),
                            "checksum": "md5:" + hashlib.md5(body).hexdigest(),
                            "links": {"content" if form == "rdm" else "self": link}})
            if key not in missing:
                self.routes[urlsplit(link).path] = ((served or {}).get(key, body), "application/octet-stream",
                                                    (stall or {}).get(key))
        metadata = {"title": "Data supporting the findings of Rizzello et al. (2025)", "doi": f"10.5281/zenodo.{record}"}
        if form == "rdm":
            metadata["rights"] = [{"id": "cc-by-4.0", "title": {"en": "Creative Commons Attribution 4.0"}}]
            listing = {"enabled": True, "entries": {e["key"]: e for e in entries}}
        else:
            metadata["license"] = {"id": "cc-by-4.0"}
            listing = entries
        body = json.dumps({"id": int(record), "doi": f"10.5281/zenodo.{record}", "metadata": metadata,
                           "files": listing}).encode()
        self.routes[f"/api/records/{record}"] = (body, "application/json", record_stall)

    def file_requests(self):
        return [r for r in self.requests if "/files/" in r]

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()


@pytest.fixture
def zenodo():
    server = LocalZenodo()
    yield server
    server.stop()


def _fetch(zenodo, dest, *extra, capsys):
    code = runner.main(["fetch", "--record", RECORD, "--to", str(dest), "--api", zenodo.api, "--timeout", "0.5",
                        *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


def _one_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_fetch_lists_downloads_verifies_and_says_what_comes_next(zenodo, tmp_path, capsys):
    zenodo.publish({"daravd_export.csv": COHORT, "notes.bin": NOTES})
    dest = tmp_path / "raw"
    code, out, err = _fetch(zenodo, dest, capsys=capsys)
    assert code == 0, err
    assert _tree(dest) == {"daravd_export.csv": COHORT, "notes.bin": NOTES}
    assert f"Zenodo record {RECORD}: Data supporting the findings" in out and "licence: cc-by-4.0" in out
    assert f"daravd_export.csv  {fetch.human_size(len(COHORT))}  md5 {hashlib.md5(COHORT).hexdigest()}" in out
    assert "notes.bin  300.0 kB" in out and "2 file(s)" in out
    assert "daravd_export.csv: 100%" in err and "notes.bin: 100%" in err  # progress on stderr
    assert err.count("notes.bin: ") >= 4, err  # and it moves as the blocks arrive
    assert f"python -m compendium run --data {dest / 'daravd_export.csv'} --out my-run/" in out
    # a second fetch finds both files identical and downloads nothing
    before = len(zenodo.file_requests())
    code, out, err = _fetch(zenodo, dest, capsys=capsys)
    assert code == 0 and out.count("already there and identical") == 2
    assert len(zenodo.file_requests()) == before


def test_an_export_in_its_own_names_is_sent_to_map_and_the_newer_api_form_is_read(zenodo, tmp_path, capsys):
    zenodo.publish({"export.csv": FOREIGN}, form="rdm")
    code, out, err = _fetch(zenodo, tmp_path, capsys=capsys)
    assert code == 0, err
    assert "licence: cc-by-4.0" in out
    assert f"python -m compendium map {tmp_path / 'export.csv'} --template mapping.toml" in out


def test_a_checksum_that_does_not_match_is_refused_and_leaves_nothing(zenodo, tmp_path, capsys):
    corrupted = bytearray(COHORT)
    corrupted[100] ^= 1  # one bit, same size
    zenodo.publish({"daravd_export.csv": COHORT, "notes.bin": NOTES}, served={"notes.bin": NOTES[:-1] + b"x"})
    dest = tmp_path / "raw"
    code, out, err = _fetch(zenodo, dest, capsys=capsys)
    assert code == 1
    message = _one_error(err)
    assert "notes.bin" in message and "does not match the record" in message and "nothing kept" in message
    assert not dest.exists(), "a refused fetch left its folder (or a file) behind"
    # into a folder that exists: what was there stays, and no partial file is left beside it
    dest.mkdir()
    (dest / "mine.csv").write_bytes(b"kept\n")
    zenodo.publish({"daravd_export.csv": COHORT}, served={"daravd_export.csv": bytes(corrupted)})
    code, out, err = _fetch(zenodo, dest, capsys=capsys)
    assert code == 1 and "does not match" in _one_error(err)
    assert _tree(dest) == {"mine.csv": b"kept\n"}


def test_more_bytes_than_the_record_announces_are_refused(zenodo, tmp_path, capsys):
    zenodo.publish({"daravd_export.csv": COHORT}, served={"daravd_export.csv": COHORT + b"\n" * 70_000})
    code, out, err = _fetch(zenodo, tmp_path / "raw", capsys=capsys)
    assert code == 1 and "sent more than the" in _one_error(err)
    assert not (tmp_path / "raw").exists()


def test_a_missing_file_fails_the_whole_fetch(zenodo, tmp_path, capsys):
    zenodo.publish({"a_first.csv": COHORT, "b_missing.csv": FOREIGN}, missing={"b_missing.csv"})
    code, out, err = _fetch(zenodo, tmp_path / "raw", capsys=capsys)
    assert code == 1
    message = _one_error(err)
    assert "b_missing.csv" in message and "HTTP 404" in message and "the file is not there" in message
    assert not (tmp_path / "raw").exists(), "all or nothing: the file that did arrive is not kept either"


def test_a_record_that_does_not_exist(zenodo, tmp_path, capsys):
    zenodo.publish({"daravd_export.csv": COHORT})
    code = runner.main(["fetch", "--record", "99", "--to", str(tmp_path), "--api", zenodo.api])
    err = capsys.readouterr().err
    assert code == 1 and "HTTP 404" in _one_error(err) and "Zenodo has no such record" in err
    assert _tree(tmp_path) == {}


@pytest.mark.parametrize("where", ["record", "before", "during"])
def test_a_server_that_does_not_answer_times_out(zenodo, tmp_path, capsys, where):
    if where == "record":
        zenodo.publish({"daravd_export.csv": COHORT}, record_stall="before")
    else:
        zenodo.publish({"daravd_export.csv": COHORT}, stall={"daravd_export.csv": where})
    started = time.monotonic()
    code, out, err = _fetch(zenodo, tmp_path / "raw", capsys=capsys)
    assert time.monotonic() - started < STALL_LIMIT / 2, "the client waited for the server instead of timing out"
    assert code == 1
    message = _one_error(err)
    assert "0.5 s (timeout)" in message
    assert ("stalled" in message) == (where == "during")
    assert not (tmp_path / "raw").exists()


def test_an_existing_different_file_is_refused_unless_overwrite(zenodo, tmp_path, capsys):
    zenodo.publish({"daravd_export.csv": COHORT, "notes.bin": NOTES})
    (tmp_path / "daravd_export.csv").write_bytes(b"my own edited copy\n")
    code, out, err = _fetch(zenodo, tmp_path, capsys=capsys)
    assert code == 1
    message = _one_error(err)
    assert "daravd_export.csv" in message and "differ" in message and "--overwrite" in message
    assert _tree(tmp_path) == {"daravd_export.csv": b"my own edited copy\n"}
    assert zenodo.file_requests() == [], "refused before downloading anything"
    code, out, err = _fetch(zenodo, tmp_path, "--overwrite", capsys=capsys)
    assert code == 0, err
    assert "daravd_export.csv: replaced (it differed; --overwrite), checksum verified" in out
    assert _tree(tmp_path) == {"daravd_export.csv": COHORT, "notes.bin": NOTES}


def test_no_network_is_one_message_that_says_so(tmp_path, capsys, monkeypatch):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]
    probe.close()  # nothing listens there now: connection refused
    code = runner.main(["fetch", "--to", str(tmp_path / "raw"), "--api", f"http://127.0.0.1:{closed}/api"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot reach" in _one_error(err) and "the one step of the compendium that needs a network" in err

    def no_dns(*args, **kwargs):
        raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(fetch.urllib.request, "urlopen", no_dns)
    monkeypatch.delenv(fetch.API_ENV, raising=False)
    code = runner.main(["fetch", "--to", str(tmp_path / "raw")])
    err = capsys.readouterr().err
    assert code == 1 and "Temporary failure in name resolution" in _one_error(err)
    assert f"https://zenodo.org/api/records/{RECORD}" in err and "https://doi.org/10.5281/zenodo.16091434" in err
    assert not (tmp_path / "raw").exists()


@pytest.mark.parametrize("key", ["../escape.csv", ".hidden.csv", "sub/dir.csv"])
def test_a_file_name_that_leaves_the_folder_is_refused(zenodo, tmp_path, capsys, key):
    zenodo.publish({key: COHORT})
    code, out, err = _fetch(zenodo, tmp_path / "raw", capsys=capsys)
    assert code == 1 and "not a plain file name" in _one_error(err)
    assert _tree(tmp_path) == {}


def test_record_given_as_its_doi():
    assert fetch.record_id("10.5281/zenodo.16091434") == fetch.record_id("https://doi.org/10.5281/zenodo.16091434") \
        == fetch.record_id(" 16091434 ") == RECORD
    with pytest.raises(fetch.FetchError, match="expected a Zenodo record number"):
        fetch.record_id("zenodo-latest")


def test_the_readme_command_as_written(zenodo, tmp_path):
    """The README's command, in a separate process, with the API pointed at the local server."""
    assert FETCH_AS_WRITTEN in README
    section = README.split("### Fetching the deposit", 1)[1].split("\n#", 1)[0]
    assert FETCH_AS_WRITTEN in section and "needs a network" in section and fetch.API_ENV in section
    zenodo.publish({"daravd_export.csv": COHORT})
    argv = shlex.split(FETCH_AS_WRITTEN.replace("data/raw/", f"{tmp_path}/raw/"))
    argv[0] = sys.executable
    result = subprocess.run(argv, cwd=paths.ROOT, capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, **{fetch.API_ENV: zenodo.api}))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert _tree(tmp_path / "raw") == {"daravd_export.csv": COHORT}
    assert "next:" in result.stdout and "run --data" in result.stdout


def test_fetch_needs_only_the_standard_library():
    """It runs before anything else: its module-level imports are Python's own."""
    import ast

    tree = ast.parse((paths.ROOT / "compendium" / "data" / "fetch.py").read_text())
    top = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    assert top - {"__future__"} <= set(sys.stdlib_module_names), top
