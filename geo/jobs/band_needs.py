"""What the Sentinel-2 change step (``geo run``, ``geo recheck``) reads each band for: a scene without one is
refused saying which band, what the step needs it for, and, when the scene holds the bands ``geo vessels`` reads,
that ships can be counted on it (a port's own exports often stop at B11: ``no asset 'swir22'`` alone left the user
with nothing to do)."""

from __future__ import annotations

from collections.abc import Sequence

from geo.claims import VESSEL_SIGNATURE, Claim
from geo.errors import UnusableSceneError
from geo.scenes.item_assets import S2_COMMON_NAMES
from geo.scenes.model import Scene
from geo.scenes.sar_read import OPTICAL_BANDS, lacking_assets

# What the change step (geo.jobs.optical_kit) does with each band it reads (geo.change.classify types a change).
USES = {
    "blue": "the visible brightness that types a change, and the true-colour layers",
    "green": "the water index (MNDWI) that types a change, and the true-colour layers",
    "red": "the change statistic, the co-registration and the true-colour layers",
    "nir": "the vegetation index (NDVI) and the dark level of water that type a change",
    "swir16": "the water index (MNDWI) and the SWIR level that type a change",
    "swir22": "the SWIR level (with swir16) by which change typing tells a shadow, darker in SWIR than in the "
              "visible, from a surface that darkened",
}
SPECTRUM = {"nir": "near infrared", "swir16": "SWIR 1.6 µm", "swir22": "SWIR 2.2 µm"}
_CODES = {name: code for code, name in S2_COMMON_NAMES.items()}


def require_bands(scene: Scene, bands: Sequence[str], claims: Sequence[Claim] = ()) -> None:
    """Refuse ``scene`` (each tile of a mosaic) when it has no asset for one of ``bands`` (``UnusableSceneError``:
    a re-check goes around it), naming what the change step reads it for; ``claims``: the job's, a ship claim
    among them is pointed to ``geo vessels``."""
    for tile in scene.parts or (scene,):
        lacking = [band for band in bands if band not in tile.assets]
        if lacking:
            raise UnusableSceneError(tile.id, lacking_words(tile, lacking, claims))


def _named(band: str) -> str:
    code = _CODES.get(band)
    return ", ".join(part for part in (f"Sentinel-2 {code}" if code else "", SPECTRUM.get(band, "")) if part)


def lacking_words(scene: Scene, lacking: Sequence[str], claims: Sequence[Claim] = ()) -> str:
    """``no asset 'swir22' (Sentinel-2 B12, SWIR 2.2 µm; has ...): the change step reads it for ...``, and
    what ``geo vessels`` does with the scene when it can read it."""
    names = [f"{band!r}" + (f" ({_named(band)})" if _named(band) else "") for band in lacking]
    has = f"has {', '.join(sorted(scene.assets))}"
    named = " nor ".join(names)
    named = f"{named[:-1]}; {has})" if named.endswith(")") else f"{named} ({has})"
    uses = [f"{band} for {USES[band]}" for band in lacking if band in USES]
    if len(lacking) == 1 and uses:
        why = f": the change step reads it for {USES[lacking[0]]}"
    else:
        why = f": the change step reads {'; '.join(uses)}" if uses else ""
    keys = [_CODES[band] for band in lacking if band in _CODES]
    words = f"no asset {named}{why}" + (f" (an asset keyed {' and '.join(keys)} gives it)" if len(keys) == 1 else
                                        f" (assets keyed {' and '.join(keys)} give them)" if keys else "")
    if lacking_assets(scene) is None:
        words += f"; geo vessels counts ships from {', '.join(OPTICAL_BANDS)} alone, which this scene has"
        ships = [claim.id for claim in claims if VESSEL_SIGNATURE in claim.signatures]
        if ships:
            words += f" (geo vessels --claim {','.join(ships)} tests the ship claim{'s' if len(ships) > 1 else ''})"
    return words
