"""The after stack normalised onto the before one, computed where it is read.

Normalisation maps each band of the after stack by its own line (``geo.change.normalise``): a whole
normalised stack of a large grid would be six more float32 bands written to scratch, while the default
detector reads one band of it and typing and polygon edges read it only at a few pixels. So the normalised
stack is the after stack plus its per-band lines, and every read applies the line to what it reads, with
the arithmetic (and dtype) a materialised stack would have had: the values are the same bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geo.scenes.scratch import is_scratch, release, scratch_array, take_pixels

STRIP_ROWS = 1024  # rows of a scratch band normalised at once


@dataclass(frozen=True)
class NormalisedStack:
    """``(after[band] - intercept[band]) / slope[band]`` of a (band, row, col) ``after`` stack, read as
    ``stack[band]`` (a whole band, kept once computed: on scratch when ``after`` is), ``stack[band, rows,
    cols]`` (a window or fancy index of one band), ``take(pixels)`` (all bands at flat pixel indices, as
    ``geo.scenes.scratch.take_pixels``) or ``materialise()`` (the whole stack)."""

    after: np.ndarray
    slopes: tuple[float, ...]
    intercepts: tuple[float, ...]
    _bands: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.after.shape)

    @property
    def dtype(self) -> np.dtype[np.generic]:
        return self.after.dtype

    def _apply(self, band: int, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``values`` of ``band`` normalised into ``out`` (by default a new array of the after stack's dtype):
        assigned, as into a materialised stack, so every read casts alike. The one place of the arithmetic."""
        out = np.empty(values.shape, self.after.dtype) if out is None else out
        out[...] = (values - self.intercepts[band]) / self.slopes[band]
        return out

    def __getitem__(self, key: int | tuple[int | slice | np.ndarray, ...]) -> np.ndarray:
        if isinstance(key, tuple):
            band, *rest = key
            if not isinstance(band, (int, np.integer)):
                raise TypeError(f"a normalised stack is read one band at a time, not {band!r}")
            return self._apply(int(band), self.after[(int(band), *rest)])
        return self.band(int(key))

    def band(self, band: int) -> np.ndarray:
        """One whole normalised band (row, col), computed on first use in strips (on scratch when ``after`` is)."""
        if band not in self._bands:
            self._bands[band] = self._write_band(band, None)
        return self._bands[band]

    def _write_band(self, band: int, out: np.ndarray | None) -> np.ndarray:
        source = self.after[band]
        on_disk = is_scratch(self.after)
        if out is None:
            out = scratch_array(source.shape, source.dtype) if on_disk else np.empty_like(source)
        rows = STRIP_ROWS if on_disk else max(source.shape[0], 1)
        for start in range(0, source.shape[0], rows):
            self._apply(band, source[start:start + rows], out[start:start + rows])
            release()
        return out

    def take(self, pixels: np.ndarray) -> np.ndarray:
        """(band, n) normalised values at flat pixel indices (a scratch stack read in strips)."""
        values = take_pixels(self.after, pixels)
        out = np.empty(values.shape, self.after.dtype)
        for band in range(values.shape[0]):
            self._apply(band, values[band], out[band])
        return out

    def materialise(self) -> np.ndarray:
        """The whole normalised stack (on scratch when ``after`` is), for a detector that needs every band."""
        out = scratch_array(self.after.shape, self.after.dtype) if is_scratch(self.after) else np.empty_like(self.after)
        for band in range(self.after.shape[0]):
            self._write_band(band, out[band])
        return out


def stack_pixels(stack: np.ndarray | NormalisedStack, pixels: np.ndarray) -> np.ndarray:
    """(band, n) values of a stack, plain or normalised on the fly, at flat pixel indices."""
    return stack.take(pixels) if isinstance(stack, NormalisedStack) else take_pixels(stack, pixels)
