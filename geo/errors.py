"""One exception hierarchy for the workbench.

Every user-facing failure is a ``GeoError``; the CLI turns it into a one-line message and exit code 1.
Each class also inherits the matching builtin (as rasterio.errors does) so callers that catch
``ValueError`` or ``OSError`` keep working.  Anything that is not a ``GeoError`` is a bug: exit code 2.
"""

from __future__ import annotations


class GeoError(Exception):
    """Base of every error the workbench raises on purpose (bad input, unusable data)."""


class AOIError(GeoError, ValueError):
    """An area-of-interest file or geometry is malformed or unusable."""


class ClaimError(GeoError, ValueError):
    """A claims (seeds) file is malformed or refers to something unknown."""


class DateError(GeoError, ValueError):
    """A date or time window is malformed (unparseable, end before start)."""


class SceneError(GeoError, OSError):
    """A scene or raster cannot be found, opened or read."""


class NoScenesError(SceneError):
    """No scene of the wanted sensor(s) covers the AOI in the period asked for."""


class MissingSceneError(SceneError):
    """The scene source holds no scene of that id (never did, or no longer: an archive re-processed it)."""


class RasterError(SceneError):
    """A raster is corrupt, lacks a CRS/georeference, or holds no valid pixels."""


class ArchiveError(SceneError):
    """A remote archive (STAC API, COG host) failed after retries."""


class AssetGoneError(ArchiveError):
    """An asset's host says the file is not there (HTTP 404/410) or serves something that is not a raster
    (a portal's HTML login or error page): a fact about the scene, which waiting will not change."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.reason = reason


class UnusableSceneError(SceneError):
    """A scene's item lacks what a job needs of it (a band asset, an href that can be fetched from its
    archive): the item itself is at fault, and trying again later will not mend it."""

    def __init__(self, scene_id: str, problem: str) -> None:
        super().__init__(f"scene {scene_id}: {problem}")
        self.scene_id = scene_id


class OverlapError(GeoError, ValueError):
    """Two inputs that must overlap (AOI and scene, reference and target) do not."""


class CoregError(GeoError, RuntimeError):
    """Co-registration could not find a reliable shift."""


class TiePointError(CoregError):
    """Too few reliable tie points for a local model (callers may fall back to the global shift)."""


class OutputError(GeoError, OSError):
    """An output location cannot be written."""


class ChangeError(GeoError, ValueError):
    """Change detection cannot run on these inputs (too few valid pixels, degenerate bands, bad parameters)."""


class TooFewPixelsError(ChangeError):
    """Too few pixels are valid on both dates for the change statistic (a scene showing next to nothing of the
    grid): the pair cannot be compared, which makes its claims not observable (``geo.jobs.unseen``)."""


class UniformPairError(ChangeError):
    """A date of the pair holds one value in every band over the pixels compared (no texture: fresh snow on a frozen
    lake, calm sea, saturation): nothing tells its ground apart, so the area is left out of the comparison, said as
    snow on one date is (``geo.jobs.spine``). The message is that reason, worded to follow "the area had"."""


class DatasetError(GeoError, ValueError):
    """An evaluation dataset (e.g. OSCD) is missing files or holds malformed ones."""


class EmptyReadError(RasterError):
    """No valid pixel of a scene falls on the requested grid (all nodata or masked as cloud)."""


class StoreError(GeoError, OSError):
    """A results store cannot be opened or written, is not a store, or is from a newer workbench."""


class StoreLockedError(StoreError):
    """Another re-check holds the store's writer lock (``holder``: what its lock file says of it, pid, host and
    since, when it says), or another program has held a write transaction on the store too long (``holder`` None:
    QGIS editing it in a transaction group)."""

    def __init__(self, message: str, by_recheck: bool = False, holder: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.by_recheck = by_recheck
        self.holder = holder


class ScratchError(GeoError, OSError):
    """The scratch folder cannot hold a large job's arrays (missing, not writable, or too little room)."""


class ClusterError(GeoError, OSError):
    """The Dask scheduler named by the user cannot be reached."""
