"""``python -m compendium fetch``: the study's Zenodo deposit into ``data/raw/``, checked file by file.

The one step of the compendium that needs a network. It asks the Zenodo REST API for the record
(``GET {api}/records/{id}``), lists its files with their sizes and the record's licence, downloads
each with a progress indication on stderr, verifies it against the checksum the API gives, and only
then moves the files into place, all together: a failed or corrupted download leaves nothing behind.
A file already there is skipped when identical and refused when different (unless ``overwrite``).

The record's JSON, as Zenodo serves it (and as zenodo_get, github.com/dvolgyes/zenodo_get, reads it:
``file_details.py``, ``file_url.py``): ``{"id", "doi", "metadata": {"title", "license": {"id"}},
"files": [{"key", "size", "checksum": "md5:<hex>", "links": {"self": <url>}}]}``; InvenioRDM's newer
form names the download link ``links.content`` and the licence ``metadata.rights``, read as well.

Standard library only (urllib, hashlib, json): the step that runs before anything is installed
well should not depend on more. The API's address comes from ``--api`` or ``COMPENDIUM_ZENODO_API``
(tests serve a record from 127.0.0.1).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

#: The deposit named in the paper's data availability section (doi 10.5281/zenodo.16091434).
DEFAULT_RECORD = "16091434"
DEFAULT_API = "https://zenodo.org/api"
API_ENV = "COMPENDIUM_ZENODO_API"
#: Seconds without an answer before giving up (per request, and per read of a download).
TIMEOUT = 30.0
_BLOCK = 1 << 16
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?10\.5281/zenodo\.(\d+)$", re.I)


class FetchError(Exception):
    """One message for the user: what failed, where, and what to do."""


@dataclass(frozen=True)
class RemoteFile:
    key: str
    size: int
    algorithm: str
    checksum: str
    url: str


@dataclass(frozen=True)
class Record:
    id: str
    title: str
    doi: str
    licence: str
    files: tuple[RemoteFile, ...]


def record_id(text: str) -> str:
    """A record number, from ``16091434`` or its DOI ``10.5281/zenodo.16091434`` (as a URL too)."""
    text = text.strip()
    match = _DOI.match(text)
    if match:
        return match.group(1)
    if text.isdigit():
        return text
    raise FetchError(f"--record {text}: expected a Zenodo record number such as {DEFAULT_RECORD}, "
                     f"or its DOI 10.5281/zenodo.{DEFAULT_RECORD}")


def api_base(api: str | None = None) -> str:
    return (api or os.environ.get(API_ENV) or DEFAULT_API).rstrip("/")


def _no_network_hint(record: str) -> str:
    return (f"`fetch` is the one step of the compendium that needs a network; without one, download the deposit "
            f"from https://doi.org/10.5281/zenodo.{record} by hand and put its files into data/raw/")


def _timed_out(what: str, url: str, timeout: float) -> FetchError:
    return FetchError(f"{what}: no answer from {url} within {timeout:g} s (timeout); "
                      "try again later, or give a longer --timeout")


def _open(url: str, timeout: float, what: str, record: str, accept: str = "*/*"):
    """urlopen with every failure turned into one FetchError naming ``what`` and the URL."""
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "daravd-compendium fetch"})
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) URLs only, checked below
    except urllib.error.HTTPError as err:
        err.close()
        if err.code in (404, 410):
            raise FetchError(f"{what}: {url} answered HTTP {err.code} ({err.reason}): "
                             + ("Zenodo has no such record (check --record)" if what.startswith("record")
                                else "the file is not there")) from None
        raise FetchError(f"{what}: {url} answered HTTP {err.code} ({err.reason}); try again later") from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, (TimeoutError, socket.timeout)):
            raise _timed_out(what, url, timeout) from None
        raise FetchError(f"{what}: cannot reach {url} ({err.reason}). {_no_network_hint(record)}") from None
    except (TimeoutError, socket.timeout):  # no answer after connecting: not wrapped in a URLError
        raise _timed_out(what, url, timeout) from None
    except (OSError, ValueError, http.client.HTTPException) as err:  # a malformed URL or answer, a reset
        raise FetchError(f"{what}: cannot reach {url} ({err}). {_no_network_hint(record)}") from None


def _licence(metadata: dict) -> str:
    licence = metadata.get("license")
    if isinstance(licence, dict):
        licence = licence.get("id") or licence.get("title")
    if not licence and isinstance(metadata.get("rights"), list) and metadata["rights"]:
        first = metadata["rights"][0]
        licence = first.get("id") or (first.get("title") or {}).get("en")
    return str(licence) if licence else "not stated"


def _safe_key(key, url: str) -> str:
    # the key becomes a file name under --to: nothing that climbs out of it or hides
    if not isinstance(key, str) or not key or key != Path(key).name or key.startswith(".") or "\\" in key:
        raise FetchError(f"the record at {url} names a file {key!r}, which is not a plain file name; refused")
    return key


def _parse_record(data, url: str, record: str, base: str) -> Record:
    if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
        raise FetchError(f"the answer from {url} is not a Zenodo record (no metadata)")
    files = data.get("files")
    if isinstance(files, dict):  # InvenioRDM: {"enabled": ..., "entries": {key: {...}}}
        files = list((files.get("entries") or {}).values())
    if not files:
        raise FetchError(f"Zenodo record {record} ({url}) lists no files: they may be restricted or embargoed; "
                         f"see https://doi.org/10.5281/zenodo.{record}")
    parsed = []
    for entry in files:
        try:
            key = _safe_key(entry.get("key") or entry.get("filename"), url)
            algorithm, _, checksum = str(entry["checksum"]).partition(":")
            size = int(entry.get("size", entry.get("filesize")))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise FetchError(f"the record at {url} describes a file without key, size or checksum: {entry!r}") from None
        if algorithm not in hashlib.algorithms_available or not checksum:
            raise FetchError(f"the record at {url} gives {key} a checksum '{entry['checksum']}' this cannot verify")
        links = entry.get("links") or {}
        link = links.get("content") or links.get("self") or f"{base}/records/{record}/files/{urllib.parse.quote(key)}/content"
        if urllib.parse.urlsplit(link).scheme not in ("http", "https"):
            raise FetchError(f"the record at {url} gives {key} a link that is not http(s): {link}")
        parsed.append(RemoteFile(key, size, algorithm, checksum.lower(), link))
    metadata = data["metadata"]
    return Record(record, str(metadata.get("title") or "(untitled)"), str(data.get("doi") or metadata.get("doi") or ""),
                  _licence(metadata), tuple(sorted(parsed, key=lambda f: f.key)))


def get_record(record: str, api: str | None = None, timeout: float = TIMEOUT) -> Record:
    base = api_base(api)
    url = f"{base}/records/{record}"
    with _open(url, timeout, f"record {record}", record, accept="application/json") as answer:
        try:
            body = answer.read()
        except (TimeoutError, socket.timeout):
            raise _timed_out(f"record {record}", url, timeout) from None
        except (OSError, http.client.HTTPException) as err:
            raise FetchError(f"record {record}: the answer from {url} broke off ({err}); try again") from None
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise FetchError(f"the answer from {url} is not a Zenodo record (not JSON)") from None
    return _parse_record(data, url, record, base)


def shown(path: Path) -> str:
    """A path as the user typed it: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def human_size(size: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def digest(path: Path, algorithm: str) -> str:
    hashed = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            hashed.update(block)
    return hashed.hexdigest()


class _Progress:
    """A bar redrawn in place on a terminal; a line at each quarter otherwise (logs, CI, tests)."""

    def __init__(self, key: str, size: int, stream):
        self.key, self.size, self.stream = key, size, stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.shown = -1

    def update(self, done: int) -> None:
        percent = 100 if self.size <= 0 else min(100, done * 100 // self.size)
        if self.tty:
            bar = "#" * (percent // 4) + "." * (25 - percent // 4)
            print(f"\r  {self.key} [{bar}] {percent:3d}% of {human_size(self.size)}", end="", file=self.stream,
                  flush=True)
        elif percent // 25 > self.shown // 25 or (percent == 100 and self.shown < 100):
            print(f"  {self.key}: {percent}% of {human_size(self.size)}", file=self.stream, flush=True)
        self.shown = percent

    def close(self) -> None:
        if self.tty:
            print(file=self.stream, flush=True)


def _download(remote: RemoteFile, part: Path, timeout: float, record: str, stream) -> None:
    hashed = hashlib.new(remote.algorithm, usedforsecurity=False)
    done = 0
    progress = _Progress(remote.key, remote.size, stream)
    progress.update(0)
    with _open(remote.url, timeout, f"file {remote.key} of record {record}", record) as answer, \
            open(part, "wb") as handle:
        while True:
            try:
                block = answer.read(_BLOCK)
            except (TimeoutError, socket.timeout):
                raise FetchError(f"file {remote.key} of record {record}: the download from {remote.url} stalled for "
                                 f"{timeout:g} s (timeout) after {human_size(done)}; try again later") from None
            except (OSError, http.client.HTTPException) as err:
                raise FetchError(f"file {remote.key} of record {record}: the download from {remote.url} broke off "
                                 f"after {human_size(done)} ({err}); try again") from None
            if not block:
                break
            done += len(block)
            if done > remote.size:  # never more than the record announced: a wrong or endless answer
                raise FetchError(f"file {remote.key} of record {record}: {remote.url} sent more than the "
                                 f"{remote.size} bytes the record announces; refused, nothing kept")
            hashed.update(block)
            handle.write(block)
            progress.update(done)
    progress.close()
    if done != remote.size or hashed.hexdigest() != remote.checksum:
        raise FetchError(f"file {remote.key} of record {record}: the download ({done} bytes, {remote.algorithm} "
                         f"{hashed.hexdigest()}) does not match the record ({remote.size} bytes, {remote.algorithm} "
                         f"{remote.checksum}); refused, nothing kept. Try again; if it persists the deposit or "
                         "the connection is corrupted")


@dataclass(frozen=True)
class Outcome:
    record: Record
    written: tuple[Path, ...]      # downloaded and verified
    identical: tuple[Path, ...]    # already there with the right checksum: skipped
    replaced: tuple[Path, ...]     # differed, overwritten on request


def plan(record: Record, dest: Path, overwrite: bool) -> tuple[list[RemoteFile], list[Path], list[Path]]:
    """Which files to download; refuses up front when a different file is in the way."""
    todo, identical, differing = [], [], []
    for remote in record.files:
        target = dest / remote.key
        if target.is_dir():
            raise FetchError(f"{shown(target)} is a folder, where the deposit's file {remote.key} would go; move it away")
        if target.exists():
            if target.stat().st_size == remote.size and digest(target, remote.algorithm) == remote.checksum:
                identical.append(target)
                continue
            differing.append(target)
        todo.append(remote)
    if differing and not overwrite:
        listed = ", ".join(shown(p) for p in differing)
        one = len(differing) == 1
        raise FetchError(f"{listed} {'exists' if one else 'exist'} already and {'differs' if one else 'differ'} "
                         f"from the deposit's (size or checksum); nothing was downloaded. Move "
                         f"{'it' if one else 'them'} away, or pass --overwrite to replace {'it' if one else 'them'}")
    return todo, identical, differing


def fetch(record: str = DEFAULT_RECORD, dest: str | Path = "data/raw", *, api: str | None = None,
          timeout: float = TIMEOUT, overwrite: bool = False, stream=None, out=None) -> Outcome:
    """Download and verify every file of the record into ``dest``; all or nothing."""
    stream = stream or sys.stderr
    out = out or sys.stdout
    record = record_id(str(record))
    info = get_record(record, api, timeout)
    dest = Path(dest)
    print(f"Zenodo record {info.id}: {info.title}" + (f" (doi {info.doi})" if info.doi else ""), file=out)
    print(f"licence: {info.licence}", file=out)
    for remote in info.files:
        print(f"  {remote.key}  {human_size(remote.size)}  {remote.algorithm} {remote.checksum}", file=out)
    print(f"  {len(info.files)} file(s), {human_size(sum(f.size for f in info.files))}", file=out)
    todo, identical, differing = plan(info, dest, overwrite)
    for path in identical:
        print(f"{shown(path)}: already there and identical (checksum verified), skipped", file=out)
    created = not dest.exists()
    parts: dict[Path, Path] = {}
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for remote in todo:
            fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{remote.key}.", suffix=".part")
            os.close(fd)
            parts[dest / remote.key] = Path(tmp)
            _download(remote, Path(tmp), timeout, record, stream)
        for target, part in parts.items():  # every file verified: only now do they take their names
            os.chmod(part, 0o644)
            os.replace(part, target)
    except BaseException:
        for part in parts.values():
            part.unlink(missing_ok=True)
        if created:
            try:
                dest.rmdir()
            except OSError:
                pass
        raise
    for target in parts:
        verb = "replaced (it differed; --overwrite)" if target in differing else "written"
        print(f"{shown(target)}: {verb}, checksum verified", file=out)
    return Outcome(info, tuple(t for t in parts if t not in differing), tuple(identical),
                   tuple(t for t in parts if t in differing))


def next_commands(paths_: list[Path], follows_dictionary) -> list[str]:
    """What to run next on each data file: ``run`` when it is in the dictionary's format, else ``map``."""
    commands = []
    for path in paths_:
        if path.suffix.lower() not in (".csv", ".xlsx"):
            continue
        if follows_dictionary(path):
            commands.append(f"python -m compendium run --data {shown(path)} --out my-run/")
        else:
            commands.append(f"python -m compendium map {shown(path)} --template mapping.toml   "
                            "# then edit mapping.toml and run with --mapping mapping.toml")
    return commands


def follows_dictionary(path: Path) -> bool:
    """Whether ``run`` can read the file as it is (header and shape of data/dictionary.csv)."""
    from compendium.data.inputs import read_table  # pandas, only once the download is done
    from compendium.data.loading import load_dictionary

    try:
        read_table(path, list(load_dictionary()["name"]))
    except Exception:  # noqa: BLE001 - any refusal means the export needs a mapping first (map says why)
        return False
    return True


def command(record: str, dest, **options) -> int:
    """``python -m compendium fetch``: the deposit, then the command that comes next; 1 with one message."""
    try:
        outcome = fetch(record, dest, **options)
    except FetchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    commands = next_commands([Path(dest) / f.key for f in outcome.record.files], follows_dictionary)
    if not commands:
        print("the record holds no CSV or XLSX file: nothing for `map` or `run` to read")
    else:
        print("next:" if len(commands) == 1 else "next, for each data file:")
        for line in commands:
            print(f"  {line}")
    return 0
