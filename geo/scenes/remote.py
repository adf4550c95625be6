"""Talking to remote archives: retry policy, STAC API I/O with retries, URL signing, fault classification.

Two layers of retries, because the two clients differ:

* STAC API (pystac-client on requests/urllib3): HTTP 429/5xx are retried by urllib3 with exponential
  backoff, honouring ``Retry-After`` (capped); dropped connections, timeouts and truncated bodies are
  retried here, since urllib3 has already returned when the body turns out short.
* COG reads (GDAL /vsicurl/): GDAL retries each ranged request itself (``geo.scenes.gdal_env``) but
  ignores ``Retry-After``; whatever still fails is retried here per asset, waiting at least the server's
  ``Retry-After`` when it sent one, and without GDAL's in-process cache so a bad body is fetched again.

After the last attempt the caller raises ``ArchiveError`` naming the item and the asset. The STAC API's I/O is
``geo.scenes.stac_io``; requests is imported here only when a remote file is asked about, so a job on a local
catalog imports neither (``tests/scenes/test_local_imports.py``).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

from geo.errors import ArchiveError, AssetGoneError

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
PERMANENT_STATUSES = (400, 401, 403, 404, 410)  # waiting will not make these succeed
GONE_STATUSES = (404, 410)  # the file is not there: the scene's fault, not the reader's (401/403: credentials)
TEXT_STARTS = (b"<", b"{", b"[")  # HTML, XML or JSON where a raster was expected (a portal's page)
SNIFF_BYTES = 512
REMOTE_PREFIXES = ("http://", "https://", "/vsicurl", "/vsis3/", "/vsiaz/", "/vsigs/", "s3://")
BLOB_STORAGE_DOMAIN = ".blob.core.windows.net"  # Planetary Computer assets: need a SAS token
_HTTP_CODE = re.compile(r"HTTP (?:response )?code:? ?(\d{3})", re.IGNORECASE)
# GDAL up to 3.10 ("... configuration options not defined", "credentials not filled") and 3.12 (rasterio 1.5's
# wheels: "InvalidCredentials: No valid AWS credentials found. ..."), which a retry will not change
_NO_CREDENTIALS = re.compile(r"configuration options? not defined|credentials not filled|no valid AWS credentials found",
                             re.IGNORECASE)
# S3's error codes for keys it refuses (GDAL 3.12 writes "AccessDenied: Access Denied"; 3.10 the message alone)
_S3_REFUSED = re.compile(r"\b(?:AccessDenied|Access Denied|SignatureDoesNotMatch|InvalidAccessKeyId)\b")
_S3_UNEXPLAINED = re.compile(r"Invalid AWS response: (.+)")  # GDAL's words for an error body that is not S3's
NO_CREDENTIALS_HINT = ("no credentials for this bucket: give them in the environment (AWS_ACCESS_KEY_ID ...), or "
                       "AWS_NO_SIGN_REQUEST=YES for a public S3 bucket")


def env_number(name: str, default: float) -> float:
    """A number from the environment variable ``name`` (``default`` when unset); ``ArchiveError`` if not one."""
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        raise ArchiveError(f"environment variable {name}={text!r} is not a number") from None


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try a remote request. ``GEO_HTTP_*`` environment variables override the defaults."""

    attempts: int = 3  # tries per STAC request / per asset read (each COG try also has GDAL's own retries)
    backoff_s: float = 1.0  # first wait; doubled at each retry
    max_wait_s: float = 60.0  # cap on any single wait, Retry-After included
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        base = cls()
        return cls(
            attempts=max(1, int(env_number("GEO_HTTP_ATTEMPTS", base.attempts))),
            backoff_s=env_number("GEO_HTTP_BACKOFF", base.backoff_s),
            max_wait_s=env_number("GEO_HTTP_MAX_WAIT", base.max_wait_s),
            connect_timeout_s=env_number("GEO_HTTP_CONNECT_TIMEOUT", base.connect_timeout_s),
            read_timeout_s=env_number("GEO_HTTP_TIMEOUT", base.read_timeout_s),
        )

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1``: backoff, at least Retry-After, capped."""
        wait = self.backoff_s * 2.0**attempt
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.max_wait_s)


def timeout_words(text: str) -> str | None:
    """What a requests/urllib3 timeout in ``text`` means, naming the knob that sets it; None if none is."""
    if re.search(r"ReadTimeout|Read timed out", text):
        return "did not answer in time: a read timeout (GEO_HTTP_TIMEOUT s) at each attempt"
    if re.search(r"ConnectTimeout|connect timeout", text):
        return "did not take the connection in time: a connect timeout (GEO_HTTP_CONNECT_TIMEOUT s) at each attempt"
    return None


def is_remote(href: str) -> bool:
    return href.startswith(REMOTE_PREFIXES)


def signature_expired(href: str, now: datetime | None = None) -> str | None:
    """When the signature ``href`` carries expired, once it has: an Azure SAS token's ``se``, or an S3 presigned
    URL's ``X-Amz-Date`` + ``X-Amz-Expires``; None when it carries none, one still valid, or one not saying."""
    query = {key.lower(): values[0] for key, values in parse_qs(urlparse(href).query).items()}
    try:
        if "se" in query:
            expiry = datetime.fromisoformat(query["se"].replace("Z", "+00:00"))
        elif "x-amz-date" in query and "x-amz-expires" in query:
            expiry = (datetime.strptime(query["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
                      + timedelta(seconds=int(query["x-amz-expires"])))
        else:
            return None
    except ValueError:
        return None
    expiry = expiry if expiry.tzinfo else expiry.replace(tzinfo=timezone.utc)
    shown = expiry.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return shown if expiry <= (now or datetime.now(timezone.utc)) else None


def sign_href(href: str) -> str:
    """The href ready to open: Planetary Computer blob URLs get a SAS token (``planetary-computer``
    package, tokens cached by it); every other href is returned unchanged. Signing happens at read time
    because tokens expire, so cached items keep their unsigned hrefs; an href saved signed (items saved from a
    signed search) whose token has expired is signed anew (the package leaves a signed one as it is: Azure's 403)."""
    parts = urlparse(href)
    if not parts.netloc.endswith(BLOB_STORAGE_DOMAIN):
        return href
    if (expired := signature_expired(href)) is not None:
        log.debug("%s: its SAS token expired at %s; signing it anew", parts._replace(query="").geturl(), expired)
        href = parts._replace(query="").geturl()
    import planetary_computer
    import requests

    try:
        signed: str = planetary_computer.sign_url(href)
        return signed
    except (requests.RequestException, ValueError) as exc:
        raise ArchiveError(f"{href}: cannot get a Planetary Computer SAS token ({exc})") from None


def http_status(message: str) -> int | None:
    """The HTTP status GDAL reported in an error message, if any."""
    match = _HTTP_CODE.search(message)
    return int(match.group(1)) if match else None


def lacks_credentials(message: str) -> bool:
    """Whether GDAL refused to read a bucket (s3://, gs://, az://) for want of credentials."""
    return _NO_CREDENTIALS.search(message) is not None


def aws_profile_problem(exc: Exception) -> str | None:
    """What is wrong when rasterio's S3 session (boto3) refused the ``AWS_PROFILE`` the user set, else None.
    botocore is only looked up, not imported: if it raised, it is loaded."""
    botocore_errors = sys.modules.get("botocore.exceptions")
    if botocore_errors is None or not isinstance(exc, botocore_errors.ProfileNotFound):
        return None
    profile = exc.kwargs.get("profile", os.environ.get("AWS_PROFILE", ""))
    where = os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")
    return (f"AWS_PROFILE={profile}: no such profile in {where} or the credentials file; set AWS_PROFILE to one "
            "of their profiles, or unset it")


REFUSED_STATUSES = (401, 403)  # the host refuses these credentials (or their absence)


def refused_hint(href: str) -> str:
    """What to check when the host of ``href`` refused access (401/403): the S3 keys for a bucket (the Copernicus
    Data Space's expire on the date set when they were made), else the credentials the host wants."""
    if href.startswith(("s3://", "/vsis3/")):
        return ("the storage refused the S3 keys given (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): wrong or expired "
                "keys? (the Copernicus Data Space's expire on the date chosen when they were made)")
    if (expired := signature_expired(href)) is not None:  # an href saved signed: the archive signs anew at each search
        return f"the host refused access: the signature in the href expired at {expired} (search the archive again)"
    return "the host refused access: it wants credentials this request did not carry, or not these"


def _cannot_heal(what: str, message: str, status: int | None, detail: str = "", href: str = ""
                 ) -> ArchiveError | None:
    """The error for a failed read whose HTTP ``status`` waiting will not change (400/401/403/404/410):
    ``AssetGoneError`` when the file is not there (404, 410), else ``ArchiveError`` (saying what to check when
    access was refused); None for the statuses worth retrying (408/429/5xx) and for no status (timeouts, resets,
    truncated or corrupt bodies)."""
    if status in GONE_STATUSES:  # GDAL's words for a URL answering 404 at open speak of a "file system"
        said = "the host has no such file" if "does not exist in the file system" in message else message
        return AssetGoneError(what, f"{said}{detail}")
    if status in REFUSED_STATUSES:
        return ArchiveError(f"{what}: {refused_hint(href)} ({message}{detail})")
    if status in PERMANENT_STATUSES:
        return ArchiveError(f"{what}: {message}{detail}")
    return None


def s3_http_url(href: str, options: Mapping[str, str] | None = None) -> str | None:
    """The HTTP(S) URL GDAL reads an ``s3://`` (or ``/vsis3/``) href from: at the endpoint the item names
    (``options``, GDAL's AWS_S3_ENDPOINT, AWS_HTTPS, AWS_VIRTUAL_HOSTING; the user's environment wins, as for
    GDAL), else AWS's. None for any other href."""
    for prefix in ("s3://", "/vsis3/"):
        if href.startswith(prefix):
            bucket, _, key = href.removeprefix(prefix).partition("/")
            break
    else:
        return None
    setting = {name: os.environ.get(name, (options or {}).get(name, default)) for name, default in
               (("AWS_S3_ENDPOINT", "s3.amazonaws.com"), ("AWS_HTTPS", "YES"), ("AWS_VIRTUAL_HOSTING", "TRUE"))}
    scheme = "http" if setting["AWS_HTTPS"].upper() in ("NO", "FALSE", "OFF", "0") else "https"
    endpoint = setting["AWS_S3_ENDPOINT"]
    if setting["AWS_VIRTUAL_HOSTING"].upper() in ("NO", "FALSE", "OFF", "0"):
        return f"{scheme}://{endpoint}/{bucket}/{key}"
    return f"{scheme}://{bucket}.{endpoint}/{key}"


def s3_status(message: str, href: str, options: Mapping[str, str] | None, policy: RetryPolicy) -> int | None:
    """The HTTP status behind GDAL's words for a failed read of a bucket file, which GDAL 3.12 leaves out (3.10
    said "HTTP response code: 403"): S3's codes for refused keys are a 403; an error body that is not S3's XML
    ("Invalid AWS response: <body>") is looked for at the file's HTTP URL, and its status taken when the storage
    answers an unsigned request with that same body (the same answer; a private bucket's own 403 for a request
    without keys is S3's XML, and says nothing of the keys). None otherwise."""
    if (url := s3_http_url(href, options)) is None:
        return None
    if _S3_REFUSED.search(message):
        return 403
    if (unexplained := _S3_UNEXPLAINED.search(message)) is None:
        return None
    import requests

    try:
        with requests.get(url, headers={"Range": f"bytes=0-{SNIFF_BYTES - 1}"}, stream=True,
                          timeout=(policy.connect_timeout_s, policy.read_timeout_s)) as response:
            body = next(response.iter_content(SNIFF_BYTES), b"").decode("utf-8", "replace")
    except requests.RequestException:
        return None
    # (GDAL's words may go on with a later message's: the shorter of the two starts the other)
    answered, said = (" ".join(text.split())[:SNIFF_BYTES // 2] for text in (body, unexplained.group(1)))
    same = bool(answered) and (said.startswith(answered) or answered.startswith(said))
    return response.status_code if same and response.status_code >= 400 else None


def probe(href: str, policy: RetryPolicy) -> tuple[int | None, float | None, bool]:
    """Ask the host once about ``href`` after a failed read: (HTTP status, Retry-After seconds or None, whether
    it did not answer in time). GDAL neither honours Retry-After nor always reports the status behind a failed
    tile read (nor says a tile's read timed out), so a HEAD request tells how long the host wants us to wait,
    and whether waiting can help at all."""
    import requests
    from urllib3.util.retry import Retry

    try:
        response = requests.head(
            sign_href(href), timeout=(policy.connect_timeout_s, policy.read_timeout_s), allow_redirects=True
        )
    except (requests.RequestException, ArchiveError) as exc:
        return None, None, isinstance(exc, requests.Timeout)
    value = response.headers.get("Retry-After")
    if response.status_code not in (429, 503) or value is None:
        return response.status_code, None, False
    try:
        return response.status_code, float(Retry().parse_retry_after(value)), False
    except Exception:  # urllib3 raises InvalidHeader for a malformed value: then there is no hint
        return response.status_code, None, False


def not_a_raster(href: str, policy: RetryPolicy) -> str | None:
    """What the host serves at ``href`` when it is text (HTML, XML, JSON) or nothing rather than a raster, else None.
    GDAL only says the file is "not recognized"; a scrambled or truncated raster would say the same and is
    worth fetching again, a portal's login or error page (status 200) is not."""
    import requests

    try:
        response = requests.get(sign_href(href), headers={"Range": f"bytes=0-{SNIFF_BYTES - 1}"}, stream=True,
                                timeout=(policy.connect_timeout_s, policy.read_timeout_s))
        with response:
            head = next(response.iter_content(SNIFF_BYTES), b"") if response.status_code < 300 else b""
    except (requests.RequestException, ArchiveError):
        return None
    # no byte at all: a 416 for the first bytes of a file of size 0 (its Content-Range "bytes */0"), or nothing sent
    if (response.status_code == 416 and response.headers.get("Content-Range", "").endswith("/0")) or (
            response.status_code < 300 and not head):
        return "an empty file (0 bytes), not a raster"
    if not head.lstrip().startswith(TEXT_STARTS):
        return None
    kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "text"
    start = " ".join(head.decode("utf-8", "replace").split())[:60]
    return f"not a raster: the host answers with {kind} ({start!r}...)"


def with_retries(read: Callable[[int], T], href: str, what: str, policy: RetryPolicy,
                 retryable: Callable[[Exception], str | None], s3_options: Mapping[str, str] | None = None) -> T:
    """Call ``read(attempt)`` until it succeeds. ``retryable(exc)`` returns the failure text when ``exc``
    is a remote failure worth retrying (else None: re-raised at once). Raises ``ArchiveError`` naming
    ``what`` after the last attempt, or at once when the failure cannot heal (403, ...): ``AssetGoneError``
    when the file is not there (404, 410) or is not a raster (an HTML page). ``s3_options``: the endpoint
    settings of an ``s3://`` href (``s3_status``)."""
    for attempt in range(policy.attempts):
        try:
            return read(attempt)
        except Exception as exc:
            message = retryable(exc)
            if message is None:
                if (problem := aws_profile_problem(exc)) is not None:  # waiting will not create the profile
                    raise ArchiveError(f"{what}: {problem}") from None
                raise
            if lacks_credentials(message):
                raise ArchiveError(f"{what}: {NO_CREDENTIALS_HINT} ({message})") from None
            said = http_status(message)
            status = said or s3_status(message, href, s3_options, policy)
            detail = "" if said or status is None else f" (HTTP {status})"
            if (final := _cannot_heal(what, message, status, detail, href)) is not None:
                raise final from None
            status, hint, late = probe(href, policy)  # GDAL does not always say the status: the host is asked
            if (final := _cannot_heal(what, message, status, f" (HTTP {status})", href)) is not None:
                raise final from None
            if status is not None and status < 300 and (text := not_a_raster(href, policy)) is not None:
                raise AssetGoneError(what, text) from None
            if attempt + 1 == policy.attempts and late:  # GDAL's words were a tile's "Read error at row 4294967295"
                raise ArchiveError(f"{what}: the host did not answer in time at each of {policy.attempts} attempts "
                                   "(a read timeout: GDAL_HTTP_TIMEOUT s)") from None
            if attempt + 1 == policy.attempts:
                shown = status is None or status < 400 or status == http_status(message)
                detail = "" if shown else f"; HTTP {status}"
                raise ArchiveError(f"{what}: failed after {policy.attempts} attempts ({message}{detail})") from None
            wait = policy.wait(attempt, hint)
            # info, not warning: a read that heals is no news to a scheduled run; one that does not is
            # reported once, by the caller, with the last failure
            log.info("%s: %s; retry %d/%d in %.1f s", what, message, attempt + 1, policy.attempts - 1, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")
