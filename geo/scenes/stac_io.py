"""pystac-client's I/O for a STAC API search, with the retries of ``geo.scenes.remote``'s policy: HTTP 429/5xx
retried by urllib3 (``Retry-After`` honoured, capped), dropped connections and truncated bodies retried here.
Its own module because it subclasses pystac-client's class: only a search of a STAC API imports it."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from pystac_client.exceptions import APIError
from pystac_client.stac_api_io import StacApiIO
from urllib3.util.retry import Retry

from geo.scenes.remote import RETRY_STATUSES, RetryPolicy, timeout_words

log = logging.getLogger(__name__)


class _CappedRetry(Retry):
    """urllib3's Retry (exponential backoff, Retry-After honoured) with a cap on Retry-After."""

    def __init__(self, *args: Any, max_retry_after: float = 60.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after

    def new(self, **kwargs: Any) -> _CappedRetry:
        retry = super().new(**kwargs)
        retry.max_retry_after = self.max_retry_after
        return retry

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.max_retry_after)


_TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                     requests.exceptions.ContentDecodingError)


class RetryingStacApiIO(StacApiIO):
    """pystac-client's I/O with timeouts, status retries (urllib3) and transport retries (here)."""

    def __init__(self, policy: RetryPolicy, **kwargs: Any) -> None:
        status_retry = _CappedRetry(
            total=policy.attempts - 1, connect=0, read=0, other=0, status=policy.attempts - 1,
            backoff_factor=policy.backoff_s / 2,  # urllib3 waits 0, then factor * 2**(n-1): 0, b, 2b, ...
            backoff_max=policy.max_wait_s, status_forcelist=RETRY_STATUSES, allowed_methods=None,
            respect_retry_after_header=True, raise_on_status=False, max_retry_after=policy.max_wait_s,
        )
        super().__init__(timeout=(policy.connect_timeout_s, policy.read_timeout_s), max_retries=status_retry,
                         **kwargs)
        self.policy = policy
        self._last_href = ""  # the URL last asked for: a relative `next` link is relative to its page

    def request(self, href: str, method: str | None = None, headers: dict[str, str] | None = None,
                parameters: dict[str, Any] | None = None) -> str:
        if not urlsplit(href).scheme and self._last_href:  # ("/search?token=...": "Invalid URL ... No scheme supplied")
            href = urljoin(self._last_href, href)
        self._last_href = href
        for attempt in range(self.policy.attempts):
            try:
                return super().request(href, method=method, headers=headers, parameters=parameters)
            except APIError as exc:
                cause = exc.__context__
                if not isinstance(cause, _TRANSPORT_ERRORS) or attempt + 1 == self.policy.attempts:
                    raise
                wait = self.policy.wait(attempt)
                # info, as the COG reads' retries (geo.scenes.remote): a run the retry saves stays quiet in cron's log
                log.info("%s %s: %s; retry %d/%d in %.1f s", method or "GET", href,
                         "timed out" if timeout_words(str(cause)) else type(cause).__name__,
                         attempt + 1, self.policy.attempts - 1, wait)
                time.sleep(wait)
        raise AssertionError("unreachable")
