"""``local-fusion``: the ``local-regression`` statistic computed over two neighbourhoods (48 and 96 px) and
two footprints (σ 1 and 2 px), and its per-pixel minimum taken: a pixel is change only where every window's
fit and every footprint agree it is. One window's misfit (a neighbourhood too large to follow a haze or
shadow gradient, or too small, so a large site half explains itself) and the rim a misregistered edge
leaves at one footprint do not survive the minimum; a real object stands out at every one. Decided as
``local-regression`` is (threshold, seed level, minimum area), with its own learnt levels
(``benchmarks/oscd_statistics.py --write``, shipped in ``geo/change/params/``; README, *Change detection*)."""

from __future__ import annotations

from dataclasses import dataclass

from geo.change.detectors.base import Decision, Description, Detector, NormalisedPair
from geo.change.detectors.local_regression import decision_levels, local_regions, read_shipped

PARAMS_RESOURCE = "local_fusion.json"


@dataclass(frozen=True)
class LocalFusionParams:
    """Parameters of ``local-fusion``; ``shipped()`` reads the values learnt on the OSCD dev cities. Its
    edge band (the region step's) is the narrowest footprint's: the minimum spills no further than it."""

    band: str = "red"
    windows_px: tuple[int, ...] = (48, 96)  # neighbourhoods of the local fits (~0.5 and ~1 km at 10 m)
    sigmas_px: tuple[float, ...] = (1.0, 2.0)  # Gaussian footprints
    threshold: float = 2.2  # of the minimum of mean |z| over windows × footprints
    seed_factor: float = 1.5
    min_area_px: int = 8

    @classmethod
    def shipped(cls) -> LocalFusionParams:
        values = read_shipped(PARAMS_RESOURCE, cls.__dataclass_fields__)
        return cls(**{**values, "windows_px": tuple(values["windows_px"]), "sigmas_px": tuple(values["sigmas_px"])})


class LocalFusion(Detector[LocalFusionParams]):
    name = "local-fusion"
    version = "0.2"  # 0.2: changes wider than the window screened out of the fits (geo.change.gross)

    @classmethod
    def default_params(cls) -> LocalFusionParams:
        return LocalFusionParams.shipped()

    def decide(self, pair: NormalisedPair) -> Decision:
        from geo.change.stats import ChangeStatistic, local_change

        p = self.params
        first, *others = p.sigmas_px
        window, *wider = p.windows_px
        # every window and footprint in one pass over the blocks: each window's residuals once, for all
        # footprints, and what the windows share (first moments, footprint weights, the blocks read) once
        values = local_change(pair.before, pair.after_normalised, pair.valid, pair.bands, p.band, window, first,
                              pair.runner, min_over_sigmas_px=tuple(others), min_over_windows_px=tuple(wider)).values
        details: dict[str, object] = {"band": p.band, "windows_px": list(p.windows_px), "sigmas_px": list(p.sigmas_px)}
        mask = local_regions(values, pair.valid, p.threshold, p.seed_factor, p.min_area_px)
        return Decision(ChangeStatistic(values, self.name, details=details), mask, p.threshold, 2 * p.threshold)

    def describe(self, decided: Decision) -> Description:
        p = self.params
        windows = "/".join(str(w) for w in p.windows_px)
        sigmas = "/".join(f"{s:g}" for s in p.sigmas_px)
        return Description(
            f"local-regression residual of the {p.band} band, minimum over windows {windows} px × σ {sigmas} px",
            "mean |z|",
            f"robust standard deviations of the residual over a Gaussian footprint, the lowest of the {windows} px "
            f"neighbourhoods' fits and the σ {sigmas} px footprints",
            decision_levels(p.threshold, p.seed_factor),
        )
