"""What a re-check is asked (``RecheckRequest``: the CLI's options, as values) and what it reports back
(``RecheckReport``: the run's summary and what became of its deliveries)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.change.detectors import Detector, build_detector
from geo.errors import GeoError
from geo.recheck.outputs import HOOK_TIMEOUT_S

if TYPE_CHECKING:
    from geo.jobs.optical_kit import Params


@dataclass(frozen=True)
class RecheckRequest:
    store: Path
    out: Path | None = None
    aoi_refs: tuple[str, ...] = ()
    all_aois: bool = False  # every AOI of aoi/ too, not only the store's (--all-aois: a cron line's)
    since: date | None = None
    source: str | None = None  # None: the store's source, else Earth Search (geo.recheck.source_choice)
    switch_source: bool = False  # a --source other than the store's is taken (and kept) rather than refused
    collections: tuple[str, ...] = ()  # Sentinel-2's (--collection); none: the store's, else the archive's own
    workers: int = 1
    scheduler: str | None = None
    wait_s: float = 0.0
    on_new: str | None = None
    on_new_timeout_s: float = HOOK_TIMEOUT_S
    max_pairs: int | None = None
    aoi_dir: Path | None = None
    seeds_dir: Path | None = None
    today: date | None = None  # the search end; None = today (UTC)
    params: Params | None = None  # None: geo.jobs.optical_kit.Params()
    sensor: str = "auto"  # the Sentinel-1 chain policy: auto, both or s2 (geo.recheck.sar_chain)
    notify: str | None = None  # webhook URL (geo.recheck.notify); never stored: it may hold a token
    notify_retries: int = 4

    @property
    def archive(self) -> str:
        """The source searched, once ``_recheck`` has chosen it."""
        assert self.source is not None, "chosen by geo.recheck.source_choice at the start of the run"
        return self.source

    def detector(self) -> Detector[Any]:
        """The change detector of the run, built once: its algorithm version keys the store's chains."""
        return build_detector(self.params.method, asdict(self.params)) if self.params else build_detector()

    def arguments(self) -> dict[str, Any]:
        every = {"all_aois": True} if self.all_aois else {}
        return {"aoi": list(self.aoi_refs), **every, "since": self.since.isoformat() if self.since else None,
                "source": self.source, "collections": list(self.collections), "workers": self.workers, "scheduler": self.scheduler,
                "max_pairs": self.max_pairs, "sensor": self.sensor}


@dataclass
class RecheckReport:
    summary: dict[str, Any]
    out: Path
    run_id: int | None = None
    repaired_runs: list[int] = field(default_factory=list)
    notified_runs: list[int] = field(default_factory=list)
    hook_failed_runs: list[int] = field(default_factory=list)
    alert_failed: bool = False  # --notify: the webhook did not take an alert (a warning, not a failure)
    late_alerts: list[int] = field(default_factory=list)  # earlier runs whose alerts the webhook took this time
    skipped_aois: list[GeoError] = field(default_factory=list)  # AOI files not read, concerning no AOI re-checked
    skipped_claims: list[GeoError] = field(default_factory=list)  # the same of seeds files and claims
    migrated: tuple[int, int] | None = None  # the store's schema (from, to) when this run migrated it
    created: bool = False  # the store was made by this run (a first one), though it may record nothing
    # (AOI, baseline day, head day) of the chains a --since given comes before (geo.recheck.since_note)
    since_before_chains: list[tuple[str, str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def late_hooks(self) -> list[int]:
        """Earlier runs whose ``--on-new`` command this re-check ran at last (it had failed)."""
        return [r for r in self.notified_runs if r != self.run_id]

    @property
    def failed_aois(self) -> list[dict[str, str]]:
        failed: list[dict[str, str]] = self.summary["failed_aois"]  # the summary is a JSON document
        return failed
