"""What the Sentinel-2 change step (``geo run``, ``geo recheck``) reads each band for, as one registered value a
band (``NEEDS``): a band the change statistic, the masks or the water test cannot do without is *required* and a
scene without it is refused, naming the band and what the step reads it for; a band only one step reads has a
``without``: what changes when the pair lacks it, and the job runs on the bands it has, saying so once (a
warning, and the manifest's ``bands_missing``). A port's own exports often stop at B11 (the sen2ships scenes):
without B12 the change statistic (red) is the same and only the shadow test's SWIR level is B11's alone.

Measured on the seven OSCD pairs with and without B12 (``benchmarks/oscd_without_b12.py``; README, *Real archives*): the
statistic the same (to 1e-5; 0.01 on Bordeaux), the after scene normalised on five bands (IR-MAD: Nantes' red gain
0.983 -> 0.956), so 1-6 % of the change area differs (mixed edges trimmed on five bands), 443 of 456 regions are
matched (IoU >= 0.5) and 7 of them typed otherwise, none by the shadow test."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from geo.errors import UnusableSceneError
from geo.scenes.item_assets import S2_COMMON_NAMES
from geo.scenes.model import Scene

_CODES = {name: code for code, name in S2_COMMON_NAMES.items()}


@dataclass(frozen=True)
class BandNeed:
    """One band the change step reads (``band``: its Earth Search asset name): ``uses``, what for (geo.jobs.optical_kit,
    geo.change.classify types a change, geo.scenes.snow masks snow); ``without``: what changes in a run whose pair
    lacks it, or "" when the step cannot run without it (a scene lacking it is refused)."""

    band: str
    uses: str
    spectrum: str = ""
    without: str = ""

    @property
    def required(self) -> bool:
        return not self.without

    @property
    def code(self) -> str:
        """The Sentinel-2 band (B12), or ""."""
        return _CODES.get(self.band, "")

    @property
    def named(self) -> str:
        """``Sentinel-2 B12, SWIR 2.2 µm``."""
        return ", ".join(part for part in (f"Sentinel-2 {self.code}" if self.code else "", self.spectrum) if part)


NEEDS: Mapping[str, BandNeed] = MappingProxyType({need.band: need for need in (
    BandNeed("blue", "the visible brightness that types a change, and the true-colour layers"),
    BandNeed("green", "the water index (MNDWI) that types a change, the snow mask and the true-colour layers"),
    BandNeed("red", "the change statistic, the co-registration and the true-colour layers"),
    BandNeed("nir", "the vegetation index (NDVI), the snow mask and the dark level of water that type a change",
             "near infrared"),
    BandNeed("swir16", "the water index (MNDWI), the snow mask and the SWIR level that type a change", "SWIR 1.6 µm"),
    BandNeed("swir22", "the SWIR level (with swir16) by which change typing tells a shadow, darker in SWIR than in "
             "the visible, from a surface that darkened", "SWIR 2.2 µm",
             without="the change statistic (red band) is the same; change typing tells a shadow from a darkened "
                     "surface, a vessel, or land turned water or water turned land by the SWIR 1.6 µm level (B11) "
                     "alone, not the mean of B11 and B12; the after scene is normalised (IR-MAD) and the polygons' "
                     "mixed edges trimmed on the five other bands, so an edge may move by a pixel, a small region "
                     "come or go and a region near a typing rule's cut change type (on the seven OSCD pairs: 1-6% "
                     "of the change area, 7 of 443 regions retyped)"),
)})


@dataclass(frozen=True)
class MissingBand:
    """A band ``need`` the scenes ``scenes`` (ids) lack: the job ran without it."""

    need: BandNeed
    scenes: tuple[str, ...]

    def warning(self) -> str:
        return (f"{' and '.join(self.scenes)} ha{'s' if len(self.scenes) == 1 else 've'} no {self.need.named} "
                f"(asset {self.need.band!r}), read without it: {self.need.without}")

    def to_dict(self) -> dict[str, Any]:
        return {"band": self.need.band, "sentinel2": self.need.code, "scenes": list(self.scenes),
                "what_changes": self.need.without}


def _tiles(scene: Scene) -> tuple[Scene, ...]:
    return scene.parts or (scene,)


def _lacks(scene: Scene, band: str) -> bool:
    """True when a tile of ``scene`` (a mosaic's) has no asset for ``band``."""
    return any(band not in tile.assets for tile in _tiles(scene))


def require_bands(scene: Scene, bands: Sequence[str]) -> None:
    """Refuse ``scene`` (each tile of a mosaic) when it has no asset for one of the required ``bands``
    (``UnusableSceneError``: a re-check goes around it), naming what the change step reads it for."""
    for tile in _tiles(scene):
        lacking = [band for band in bands if band not in tile.assets and (band not in NEEDS or NEEDS[band].required)]
        if lacking:
            raise UnusableSceneError(tile.id, lacking_words(tile, lacking))


def bands_to_read(scenes: Sequence[Scene], bands: Sequence[str]) -> tuple[tuple[str, ...], tuple[MissingBand, ...]]:
    """The ``bands`` every one of ``scenes`` has, and those it reads without (optional ones some scene lacks);
    a scene lacking a required one is refused (``require_bands``)."""
    for scene in scenes:
        require_bands(scene, bands)
    missing = tuple(MissingBand(NEEDS[band], tuple(s.id for s in scenes if _lacks(s, band)))
                    for band in bands if any(_lacks(s, band) for s in scenes))
    left = {m.need.band for m in missing}
    return tuple(band for band in bands if band not in left), missing


def lacking_words(scene: Scene, lacking: Sequence[str]) -> str:
    """``no asset 'swir16' (Sentinel-2 B11, SWIR 1.6 µm; has ...): the change step reads it for ...``."""
    needs = [NEEDS.get(band, BandNeed(band, "")) for band in lacking]
    names = [f"{need.band!r}" + (f" ({need.named})" if need.named else "") for need in needs]
    has = f"has {', '.join(sorted(scene.assets))}"
    named = " nor ".join(names)
    named = f"{named[:-1]}; {has})" if named.endswith(")") else f"{named} ({has})"
    uses = [f"{need.band} for {need.uses}" for need in needs if need.uses]
    if len(needs) == 1 and uses:
        why = f": the change step reads it for {needs[0].uses}"
    else:
        why = f": the change step reads {'; '.join(uses)}" if uses else ""
    keys = [need.code for need in needs if need.code]
    return f"no asset {named}{why}" + (f" (an asset keyed {' and '.join(keys)} gives it)" if len(keys) == 1 else
                                       f" (assets keyed {' and '.join(keys)} give them)" if keys else "")
