"""Where imported media may come from: public http(s) URLs and files inside IMPORT_ROOTS.

No test here reaches the network: literal IP addresses and "localhost" resolve
locally, check_url only resolves, and the one server contacted is started by
the test itself on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from annotations.services.media.sources import (
    SourceRejected,
    check_url,
    download_url,
    is_public_address,
    resolve_import_path,
)

# --- check_url ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://93.184.216.34/video.mp4",
        "gopher://93.184.216.34/",
        "javascript:alert(1)",
        "/var/videos/clip.mp4",
        "93.184.216.34/clip.mp4",
    ],
)
def test_check_url_refuses_schemes_other_than_http_and_https(url: str) -> None:
    with pytest.raises(SourceRejected, match="only http and https"):
        check_url(url)


@pytest.mark.parametrize("url", ["http:///clip.mp4", "https://:443/clip.mp4", "http://"])
def test_check_url_refuses_a_url_without_a_host(url: str) -> None:
    with pytest.raises(SourceRejected, match="names no host"):
        check_url(url)


@pytest.mark.parametrize(
    "url", ["http://user:secret@93.184.216.34/clip.mp4", "https://user@93.184.216.34/clip.mp4"]
)
def test_check_url_refuses_credentials_in_the_url(url: str) -> None:
    with pytest.raises(SourceRejected, match="user name or password"):
        check_url(url)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",  # loopback
        "127.1.2.3",
        "localhost",
        "[::1]",
        "0.0.0.0",  # noqa: S104 - a URL host here, not a bind address
        "10.0.0.1",  # private
        "172.16.5.4",
        "192.168.1.10",
        "100.64.0.1",  # carrier-grade NAT
        "[fd00::1]",  # unique local IPv6
        "169.254.169.254",  # link-local: cloud metadata services
        "[fe80::1]",
        "224.0.1.1",  # multicast, though "global"
        "239.255.255.250",
        "[ff0e::1]",
        "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
        "[::ffff:169.254.169.254]",
        "[::ffff:10.0.0.1]",
        "192.0.2.1",  # documentation range
    ],
)
def test_check_url_refuses_hosts_that_are_not_public(host: str) -> None:
    with pytest.raises(SourceRejected, match="private or local address"):
        check_url(f"http://{host}/clip.mp4")


def test_check_url_refusal_says_how_to_allow_a_trusted_server() -> None:
    with pytest.raises(SourceRejected, match="URL_IMPORT_ALLOWLIST"):
        check_url("http://10.0.0.1/clip.mp4")


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/clip.mp4",
        "https://93.184.216.34:8443/media/clip.mp4?token=abc",
        "HTTPS://93.184.216.34/clip.mp4",
        "http://[2606:2800:220:1:248:1893:25c8:1946]/clip.mp4",
        "  http://8.8.8.8/clip.mp4  ",
    ],
)
def test_check_url_allows_a_public_address(url: str) -> None:
    parts = check_url(url)

    assert parts.scheme in ("http", "https")
    assert parts.hostname is not None


@pytest.mark.parametrize(
    ("url", "allowlist"),
    [
        ("http://10.0.0.5/clip.mp4", ["10.0.0.5"]),
        ("http://localhost:8000/clip.mp4", ["localhost"]),
        ("http://LocalHost/clip.mp4", ["localhost"]),
        ("http://media.intranet.invalid/clip.mp4", ["MEDIA.intranet.invalid"]),
    ],
)
def test_check_url_allows_a_private_host_in_the_allowlist(url: str, allowlist: list[str]) -> None:
    check_url(url, allowlist=allowlist)


def test_allowlisting_one_private_host_does_not_allow_another() -> None:
    with pytest.raises(SourceRejected, match="private or local address"):
        check_url("http://10.0.0.6/clip.mp4", allowlist=["10.0.0.5"])


def test_allowlist_still_refuses_other_schemes_and_credentials() -> None:
    with pytest.raises(SourceRejected, match="only http and https"):
        check_url("file://localhost/etc/passwd", allowlist=["localhost"])
    with pytest.raises(SourceRejected, match="user name or password"):
        check_url("http://admin:pw@localhost/clip.mp4", allowlist=["localhost"])


def test_check_url_refuses_a_port_out_of_range() -> None:
    with pytest.raises(SourceRejected, match="cannot be resolved"):
        check_url("http://93.184.216.34:99999/clip.mp4")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("127.0.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.216.34", True),
        ("fe80::1%eth0", False),
        ("224.0.1.1", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


# --- resolve_import_path ----------------------------------------------------------------


@pytest.fixture
def root_with_file(tmp_path: Path) -> tuple[Path, Path, Path]:
    root = tmp_path / "imports"
    root.mkdir(exist_ok=True)
    inside = root / "batch" / "clip.mp4"
    inside.parent.mkdir()
    inside.write_bytes(b"inside")
    outside = tmp_path / "outside" / "secret.mp4"
    outside.parent.mkdir()
    outside.write_bytes(b"secret")
    return root, inside, outside


def test_resolve_import_path_accepts_a_relative_file_inside_the_root(
    root_with_file: tuple[Path, Path, Path],
) -> None:
    root, inside, _ = root_with_file

    assert resolve_import_path("batch/clip.mp4", roots=[root], base=root) == inside.resolve()


def test_resolve_import_path_accepts_an_absolute_file_inside_the_root(
    root_with_file: tuple[Path, Path, Path],
) -> None:
    root, inside, _ = root_with_file

    assert resolve_import_path(str(inside), roots=[root], base=None) == inside.resolve()


def test_resolve_import_path_accepts_dot_dot_that_stays_inside(
    root_with_file: tuple[Path, Path, Path],
) -> None:
    root, inside, _ = root_with_file

    resolved = resolve_import_path("../batch/./clip.mp4", roots=[root], base=root / "batch")

    assert resolved == inside.resolve()


@pytest.mark.parametrize(
    "raw", ["../outside/secret.mp4", "batch/../../outside/secret.mp4", "../../../../etc/passwd"]
)
def test_resolve_import_path_refuses_traversal_out_of_the_root(
    raw: str, root_with_file: tuple[Path, Path, Path]
) -> None:
    root, _, _ = root_with_file

    with pytest.raises(SourceRejected, match="outside the import folders"):
        resolve_import_path(raw, roots=[root], base=root)


def test_resolve_import_path_refuses_an_absolute_path_outside(
    root_with_file: tuple[Path, Path, Path],
) -> None:
    root, _, outside = root_with_file

    with pytest.raises(SourceRejected, match="outside the import folders"):
        resolve_import_path(str(outside), roots=[root], base=root)


def test_resolve_import_path_refuses_a_symlink_that_leads_outside(
    root_with_file: tuple[Path, Path, Path],
) -> None:
    root, _, outside = root_with_file
    (root / "link.mp4").symlink_to(outside)
    (root / "linked_dir").symlink_to(outside.parent, target_is_directory=True)

    with pytest.raises(SourceRejected, match="outside the import folders"):
        resolve_import_path("link.mp4", roots=[root], base=root)
    with pytest.raises(SourceRejected, match="outside the import folders"):
        resolve_import_path("linked_dir/secret.mp4", roots=[root], base=root)


def test_resolve_import_path_refuses_a_root_named_like_a_prefix(tmp_path: Path) -> None:
    # "/x/imports-old" starts with the text "/x/imports" but is not inside it.
    root = tmp_path / "imports"
    root.mkdir(exist_ok=True)
    sibling = tmp_path / "imports-old" / "clip.mp4"
    sibling.parent.mkdir()
    sibling.write_bytes(b"old")

    with pytest.raises(SourceRejected, match="outside the import folders"):
        resolve_import_path(str(sibling), roots=[root])


def test_resolve_import_path_with_no_roots_refuses_everything(
    root_with_file: tuple[Path, Path, Path],
) -> None:
    _, inside, _ = root_with_file

    with pytest.raises(SourceRejected, match="none configured"):
        resolve_import_path(str(inside), roots=[])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("clip\x00.mp4", "NUL"),
        ("batch/missing.mp4", "file not found"),
        ("batch", "is not a file"),
    ],
)
def test_resolve_import_path_explains_other_refusals(
    raw: str, message: str, root_with_file: tuple[Path, Path, Path]
) -> None:
    root, _, _ = root_with_file

    with pytest.raises(SourceRejected, match=message):
        resolve_import_path(raw, roots=[root], base=root)


# --- download_url against a local server --------------------------------------------------

BODY = bytes(range(256)) * 40  # 10 240 bytes


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/clip.mp4":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        elif self.path == "/undeclared.mp4":
            # No Content-Length: the size is known only by reading to the end.
            self.protocol_version = "HTTP/1.0"
            self.send_response(200)
            self.end_headers()
            self.wfile.write(BODY)
            self.close_connection = True
        elif self.path == "/to-localhost":
            assert isinstance(self.server, ThreadingHTTPServer)
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_port}/clip.mp4")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_error(404, "Not Found")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def download_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A proxy from the environment would be asked instead of our server.
    for name in (
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


def _download(
    url: str, directory: Path, *, allowlist: tuple[str, ...] = (), max_bytes: int = 1_000_000
) -> Path:
    return download_url(
        url, max_bytes=max_bytes, timeout=5, allowlist=allowlist, directory=directory
    )


LOCAL = ("127.0.0.1",)


@pytest.mark.parametrize(
    ("name", "allowlist", "max_bytes", "message"),
    [
        pytest.param(
            "clip.mp4", (), 1_000_000, "private or local address", id="from a private address"
        ),
        pytest.param(
            "clip.mp4",
            LOCAL,
            1000,
            f"{len(BODY)} bytes, over the limit of 1000",
            id="over the limit by its declared length",
        ),
        pytest.param(
            "undeclared.mp4",
            LOCAL,
            1000,
            "over the limit of 1000 bytes",
            id="over the limit while reading",
        ),
        pytest.param(
            "to-localhost",
            LOCAL,
            1_000_000,
            "private or local address",
            id="redirected to a host not in the allowlist",
        ),
        pytest.param("to-file", LOCAL, 1_000_000, None, id="redirected to a file URL"),
        pytest.param("nothing.mp4", LOCAL, 1_000_000, "404", id="a missing file, its status"),
    ],
)
def test_a_refused_download_says_why_and_leaves_no_file(
    local_server: str,
    download_dir: Path,
    name: str,
    allowlist: tuple[str, ...],
    max_bytes: int,
    message: str | None,
) -> None:
    with pytest.raises(SourceRejected, match=message):
        _download(f"{local_server}/{name}", download_dir, allowlist=allowlist, max_bytes=max_bytes)

    assert os.listdir(download_dir) == []


def test_download_from_an_allowlisted_host_fetches_the_file(
    local_server: str, download_dir: Path
) -> None:
    path = _download(f"{local_server}/clip.mp4", download_dir, allowlist=LOCAL)

    assert path.parent == download_dir
    assert path.suffix == ".mp4"
    assert path.read_bytes() == BODY


def test_download_without_content_length_is_read_whole(
    local_server: str, download_dir: Path
) -> None:
    path = _download(f"{local_server}/undeclared.mp4", download_dir, allowlist=LOCAL)

    assert path.read_bytes() == BODY


def test_dns_answer_that_changes_after_the_check_is_caught_at_connect(
    local_server: str, download_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: the name resolves to a public address when checked, then to
    # loopback when connected. The address actually connected to is what counts.
    port = int(local_server.rsplit(":", 1)[1])
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.216.34"])

    def rebinding_getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        if host != "rebind.example":
            return list(real_getaddrinfo(host, *args, **kwargs))
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)

    with pytest.raises(SourceRejected, match=r"connected to 127\.0\.0\.1"):
        _download(f"http://rebind.example:{port}/clip.mp4", download_dir)

    assert os.listdir(download_dir) == []


def test_download_from_a_closed_port_says_it_could_not_fetch(download_dir: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = server.server_port
    server.server_close()  # nothing listens there any more

    with pytest.raises(SourceRejected, match="could not be fetched"):
        _download(f"http://127.0.0.1:{port}/clip.mp4", download_dir, allowlist=LOCAL)

    assert os.listdir(download_dir) == []
