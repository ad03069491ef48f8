"""Where imported media may come from: configured folders and public URLs.

Paths are resolved (symlinks included) and must stay inside one of
``IMPORT_ROOTS``. URLs must be http(s), and every connection is checked after
it is made, against the address actually connected to, so neither a redirect
nor a DNS answer that changes between check and use can reach loopback,
private, link-local or other non-public addresses (cloud metadata services
live there). Hosts in ``URL_IMPORT_ALLOWLIST`` are exempt.
"""

from __future__ import annotations

import http.client
import ipaddress
import shutil
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_CHUNK = 1024 * 1024


class SourceRejected(ValueError):
    """A path or URL that may not be imported; the message says why."""


def _inside_a_root(raw: str, resolved: Path, roots: Sequence[Path]) -> None:
    for root in roots:
        real_root = root.resolve()
        if resolved == real_root or resolved.is_relative_to(real_root):
            return
    allowed = ", ".join(str(root) for root in roots) or "(none configured)"
    raise SourceRejected(
        f"{raw!r} is outside the import folders ({allowed}); set IMPORT_ROOTS to allow it"
    )


def resolve_import_folder(raw: str, *, roots: Sequence[Path]) -> Path:
    """The real path of a folder to scan, if it lies inside a root."""
    resolved = Path(raw).expanduser().resolve()
    _inside_a_root(raw, resolved, roots)
    if not resolved.is_dir():
        raise SourceRejected(f"{raw} is not a folder")
    return resolved


def resolve_import_path(raw: str, *, roots: Sequence[Path], base: Path | None = None) -> Path:
    """The real path of ``raw`` (relative to ``base`` if relative), if it lies inside a root."""
    if not raw.strip():
        raise SourceRejected("the file path is empty")
    if "\x00" in raw:
        raise SourceRejected("the file path contains a NUL character")
    candidate = Path(raw.strip()).expanduser()
    if not candidate.is_absolute():
        candidate = (base or Path.cwd()) / candidate
    resolved = candidate.resolve()
    _inside_a_root(raw, resolved, roots)
    if not resolved.exists():
        raise SourceRejected(f"file not found: {raw}")
    if not resolved.is_file():
        raise SourceRejected(f"{raw!r} is not a file")
    return resolved


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allowlist: Sequence[str] = ()) -> urllib.parse.SplitResult:
    """Refuse URLs that are not http(s) or whose host resolves to a non-public address."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise SourceRejected(
            f"only http and https URLs can be imported, not {parts.scheme or 'a bare path'!r}"
        )
    host = parts.hostname
    if not host:
        raise SourceRejected(f"the URL {url!r} names no host")
    if parts.username or parts.password:
        raise SourceRejected("URLs with a user name or password are not accepted")
    if host.lower() in {h.lower() for h in allowlist}:
        return parts
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, ValueError) as exc:
        raise SourceRejected(f"the host {host!r} cannot be resolved ({exc})") from None
    for info in infos:
        address = str(info[4][0])
        if not is_public_address(address):
            raise SourceRejected(
                f"{host!r} resolves to {address}, a private or local address; "
                "add the host to URL_IMPORT_ALLOWLIST if it is a trusted media server"
            )
    return parts


class _PeerCheckingMixin:
    """Checks the address a connection actually reached, after connecting."""

    allowlist: frozenset[str] = frozenset()
    host: str
    sock: socket.socket | None

    def _check_peer(self) -> None:
        if self.host.lower() in self.allowlist or self.sock is None:
            return
        address = self.sock.getpeername()[0]
        if not is_public_address(address):
            self.sock.close()
            raise SourceRejected(
                f"{self.host!r} connected to {address}, a private or local address"
            )


def _connection_classes(
    allowlist: frozenset[str],
) -> tuple[type[http.client.HTTPConnection], type[http.client.HTTPSConnection]]:
    class CheckedHTTPConnection(_PeerCheckingMixin, http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            self._check_peer()

    class CheckedHTTPSConnection(_PeerCheckingMixin, http.client.HTTPSConnection):
        def connect(self) -> None:
            # HTTPSConnection.connect wraps the socket after the TCP connect; the
            # peer is the same, so checking after the handshake is enough.
            super().connect()
            self._check_peer()

    CheckedHTTPConnection.allowlist = allowlist
    CheckedHTTPSConnection.allowlist = allowlist
    return CheckedHTTPConnection, CheckedHTTPSConnection


def _opener(allowlist: frozenset[str]) -> urllib.request.OpenerDirector:
    http_class, https_class = _connection_classes(allowlist)

    class CheckedHTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(http_class, req)

    class CheckedHTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(https_class, req)

    class CheckedRedirectHandler(urllib.request.HTTPRedirectHandler):
        def redirect_request(
            self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
        ) -> Any:
            check_url(newurl, allowlist=tuple(allowlist))
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    # ProxyHandler({}) ignores http_proxy and friends: through a proxy, the address
    # checked after connecting would be the proxy's, not the media server's.
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        CheckedHTTPHandler,
        CheckedHTTPSHandler,
        CheckedRedirectHandler,
    )


def download_url(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allowlist: Sequence[str] = (),
    directory: Path | None = None,
) -> Path:
    """Fetch a public URL into a temporary file and return its path; the caller deletes it."""
    check_url(url, allowlist=allowlist)
    allowed = frozenset(h.lower() for h in allowlist)
    request = urllib.request.Request(url, headers={"User-Agent": "video-tagging-workbench"})  # noqa: S310
    suffix = Path(urllib.parse.urlsplit(url).path).suffix[:10]
    handle = tempfile.NamedTemporaryFile(delete=False, suffix=suffix, dir=directory)  # noqa: SIM115
    target = Path(handle.name)
    try:
        with handle, _opener(allowed).open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise SourceRejected(
                    f"the URL's file is {int(declared)} bytes, over the limit of {max_bytes}"
                )
            written = 0
            while chunk := response.read(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise SourceRejected(f"the URL's file is over the limit of {max_bytes} bytes")
                handle.write(chunk)
    except SourceRejected:
        target.unlink(missing_ok=True)
        raise
    except urllib.error.HTTPError as exc:
        target.unlink(missing_ok=True)
        raise SourceRejected(f"the server answered {exc.code} {exc.reason} for {url}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        target.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, SourceRejected):
            raise reason from None
        raise SourceRejected(f"the URL could not be fetched: {reason}") from None
    return target


def copy_to_temp(path: Path, *, directory: Path | None = None) -> Path:
    handle = tempfile.NamedTemporaryFile(delete=False, suffix=path.suffix[:10], dir=directory)  # noqa: SIM115
    with handle, path.open("rb") as source:
        shutil.copyfileobj(source, handle, _CHUNK)
    return Path(handle.name)
