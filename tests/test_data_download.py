"""CIFAR download and extraction without a network: urlopen is replaced by fakes."""

import hashlib
import io
import socket
import tarfile
import urllib.error
import urllib.request

import pytest
from test_data import write_cifar10

from vggablate.data import load_dataset
from vggablate.data.download import TIMEOUT_S
from vggablate.data.sources import CIFAR
from vggablate.errors import UsageError

URL = CIFAR["cifar10"]["url"]


class FakeResponse(io.BytesIO):
    """What urlopen returns: a readable body with headers."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.headers = {"Content-Length": str(len(body))}


def cifar_archive(tmp_path) -> bytes:
    write_cifar10(tmp_path / "src")
    with tarfile.open(tmp_path / "src.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return (tmp_path / "src.tar.gz").read_bytes()


def serve(monkeypatch, outcome) -> list[dict]:
    """Make urlopen raise outcome, or answer with it as the body; return the calls' keyword arguments."""
    calls = []

    def urlopen(url, **kwargs):
        calls.append({"url": url, **kwargs})
        if isinstance(outcome, BaseException):
            raise outcome
        return FakeResponse(outcome)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return calls


@pytest.mark.parametrize(
    "exc, cause",
    [
        (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), "Name or service not known"),
        (urllib.error.URLError(TimeoutError("timed out")), "timed out"),
        (TimeoutError("The read operation timed out"), "timed out"),  # a stall mid-body
        (urllib.error.HTTPError(URL, 503, "Service Unavailable", {}, None), "HTTP 503 Service Unavailable"),
    ],
)
def test_failed_download_is_one_line_with_the_fix(tmp_path, monkeypatch, exc, cause):
    calls = serve(monkeypatch, exc)
    with pytest.raises(UsageError) as err:
        load_dataset("cifar10", str(tmp_path / "data"), download=True)
    message = str(err.value)
    assert "\n" not in message and URL in message and str(tmp_path / "data") in message and f"({cause})" in message
    assert "cifar-10-batches-py/" in message and "cifar-10-python.tar.gz" in message and "--data-dir" in message
    assert calls[0]["timeout"] == TIMEOUT_S  # every socket wait is bounded: no hanging forever
    assert list((tmp_path / "data").iterdir()) == []  # no partial file left behind


def test_truncated_download_leaves_no_archive(tmp_path, monkeypatch):
    body = cifar_archive(tmp_path)
    monkeypatch.setitem(CIFAR["cifar10"], "md5", hashlib.md5(body).hexdigest())
    serve(monkeypatch, body[: len(body) // 2])  # the connection closed early
    with pytest.raises(UsageError, match=r"md5 .* truncated or altered download") as err:
        load_dataset("cifar10", str(tmp_path / "data"), download=True)
    assert "\n" not in str(err.value)
    assert list((tmp_path / "data").iterdir()) == []  # nothing that a later run could take for the archive


def test_download_is_checked_renamed_and_extracted(tmp_path, monkeypatch):
    body = cifar_archive(tmp_path)
    monkeypatch.setitem(CIFAR["cifar10"], "md5", hashlib.md5(body).hexdigest())
    serve(monkeypatch, body)
    assert load_dataset("cifar10", str(tmp_path / "data"), download=True).num_train == 60
    names = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert names == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]  # no temporary files left


def test_partial_archive_is_a_clear_error_and_extracts_nothing(tmp_path, monkeypatch):
    body = cifar_archive(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "cifar-10-python.tar.gz").write_bytes(body[: len(body) // 2])  # e.g. another tool's cut download
    serve(monkeypatch, AssertionError("an archive is present: no download"))
    with pytest.raises(UsageError, match=r"cannot extract .*cifar-10-python.tar.gz.*partial download") as err:
        load_dataset("cifar10", str(data), download=True)
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in data.iterdir()) == ["cifar-10-python.tar.gz"]  # no half-extracted batches


def test_half_extracted_folder_is_completed_from_the_archive(tmp_path):
    body = cifar_archive(tmp_path)
    data = tmp_path / "data"
    (data / "cifar-10-batches-py").mkdir(parents=True)
    (data / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"cut short")  # an interrupted extraction
    (data / "cifar-10-python.tar.gz").write_bytes(body)
    assert load_dataset("cifar10", str(data)).num_train == 60
