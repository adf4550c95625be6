"""Where the global shift is measured: square windows of clear, textured overlap, sized to the overlap.

A large overlap gets up to ``n_windows`` windows of ``window`` px spread over a 3 x 3 partition (the
estimate speaks for the whole overlap); a small one gets smaller windows tiling it edge to edge (at least
about four, so their spread can say how far one translation holds). Windows never share pixels: windows
that do would agree for that reason alone.
"""

from __future__ import annotations

import numpy as np

MIN_WINDOW = 32  # px: the smallest global window (32 x 32 still pins a shift to ~0.01 px on real texture)
BLOCK = 16  # texture map resolution for window selection


def texture_map(image: np.ndarray, valid: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Per ``block``-square: RMS gradient (what pins a Lucas-Kanade shift) x valid fraction; 0 for blocks
    under 90% valid (nodata, cloud)."""
    rows, cols = image.shape[0] // block, image.shape[1] // block
    if rows == 0 or cols == 0:
        return np.zeros((max(rows, 1), max(cols, 1)))
    x = np.where(valid, image, 0.0).astype(np.float32)[: rows * block, : cols * block]
    v = valid[: rows * block, : cols * block]
    energy = np.zeros(x.shape, np.float32)
    for axis in (1, 0):  # squared differences along rows, then columns, kept where both pixels are valid
        ahead, behind = (np.s_[:, 1:], np.s_[:, :-1]) if axis == 1 else (np.s_[1:, :], np.s_[:-1, :])
        step = x[ahead] - x[behind]
        np.multiply(step, step, out=step)
        step[~(v[ahead] & v[behind])] = 0
        energy[behind] += step
    shape = (rows, block, cols, block)
    # valid pixels per block: small counts summed as such (a boolean sum over two axes at once is slow)
    n = v.reshape(rows, block, cols * block).sum(axis=1, dtype=np.int16).reshape(rows, cols, block).sum(
        axis=2, dtype=np.int64)
    score = np.sqrt(energy.reshape(shape).sum(axis=(1, 3)) / np.maximum(n, 1)) * n / block**2
    return np.where(n >= 0.9 * block**2, score, 0.0)


def window_sums(score: np.ndarray, size_blocks: int, covered: float = 0.5) -> np.ndarray:
    """Total score of every ``size_blocks``-square window of blocks (indexed by its top-left block);
    0 where less than the ``covered`` share of the window is usable (score > 0)."""
    rows, cols = score.shape
    h, w = min(size_blocks, rows), min(size_blocks, cols)

    def box(values: np.ndarray) -> np.ndarray:
        integral = np.pad(values.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        sums: np.ndarray = integral[h:, w:] - integral[:-h, w:] - integral[h:, :-w] + integral[:-h, :-w]
        return sums

    if covered <= 0:
        return box(score)
    return np.where(box((score > 0).astype(np.int32)) >= covered * h * w, box(score), 0.0)


def choose_windows(score: np.ndarray, size_blocks: int, cells: int) -> list[tuple[int, int, float]]:
    """The best ``size_blocks``-square window (top-left block, total score) in each of cells x cells parts
    of the overlap, best part first, each clear of the windows already chosen: windows that share pixels
    would agree for that reason alone, and their spread would understate the error."""
    sums = window_sums(score, size_blocks)
    parts = [np.ix_(rows, cols)
             for rows in np.array_split(np.arange(sums.shape[0]), min(cells, sums.shape[0]))
             for cols in np.array_split(np.arange(sums.shape[1]), min(cells, sums.shape[1]))]
    free = sums > 0
    picks: list[tuple[int, int, float]] = []
    while True:
        best = [(float(np.where(free[part], sums[part], 0).max()), k) for k, part in enumerate(parts)
                if free[part].any()]
        if not best:
            return picks
        _, k = max(best)
        part_sums = np.where(free[parts[k]], sums[parts[k]], 0)
        i, j = np.unravel_index(np.argmax(part_sums), part_sums.shape)
        r, c = int(parts[k][0][i, 0]), int(parts[k][1][0, j])
        picks.append((r, c, float(sums[r, c])))
        free[max(0, r - size_blocks + 1):r + size_blocks, max(0, c - size_blocks + 1):c + size_blocks] = False
        parts.pop(k)


def tile_windows(score: np.ndarray, size_blocks: int, first: tuple[int, int], end: tuple[int, int]
                 ) -> list[tuple[int, int, float]]:
    """Windows (top-left block, total score) side by side over the overlap's blocks [``first``, ``end``),
    as many as fit without sharing pixels, spread evenly, best first: on an overlap a few windows wide,
    the most separate windows there are."""
    sums = window_sums(score, size_blocks)

    def spread(start: int, last: int) -> np.ndarray:
        count = (last - start) // size_blocks + 1  # windows that fit between ``start`` and ``last``
        if last < start:
            return np.zeros(0, int)
        at = np.linspace(start, last, max(count, 1)).round().astype(int)  # sorted: repeats are neighbours
        distinct: np.ndarray = at[np.append(True, np.diff(at) != 0)]  # (np.unique would import numpy.ma)
        return distinct

    rows = spread(first[0], min(end[0] - size_blocks, sums.shape[0] - 1))
    cols = spread(first[1], min(end[1] - size_blocks, sums.shape[1] - 1))
    picks = [(int(r), int(c), float(sums[r, c])) for r in rows for c in cols if sums[r, c] > 0]
    return sorted(picks, key=lambda p: -p[2])


def global_window_size(rows: int, cols: int, window: int, n_windows: int) -> int:
    """The window side for the global shift: ``window``, smaller when the overlap's bounding box
    (``rows`` x ``cols``) would not hold about ``min(n_windows, 4)`` separate windows (their spread is what
    makes the stated error honest), never under ``MIN_WINDOW``; a multiple of the texture block."""
    across = int(np.ceil(np.sqrt(min(n_windows, 4))))
    size = max(MIN_WINDOW, min(window, rows // across, cols // across))
    block = _texture_block(size)
    return size // block * block


def _texture_block(size: int) -> int:
    return max(4, min(BLOCK, size // 8))


def windows_for(ref: np.ndarray, both: np.ndarray, window: int, n_windows: int
                 ) -> tuple[int, list[tuple[int, int, float]]]:
    """(window side, top-left pixels of the chosen windows, best first): the side fits the overlap
    (``global_window_size``) and halves while no window of it is usable (a ragged overlap)."""
    rows, cols = np.nonzero(both.any(axis=1))[0], np.nonzero(both.any(axis=0))[0]
    if rows.size == 0:
        return MIN_WINDOW, []
    size = global_window_size(int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1), window, n_windows)
    while True:
        block = _texture_block(size)
        score = texture_map(ref, both, block)
        if n_windows > 1 and min(rows[-1] - rows[0], cols[-1] - cols[0]) < 3 * size:  # a few: tile them
            picks = tile_windows(score, size // block, (-(-rows[0] // block), -(-cols[0] // block)),
                                 ((rows[-1] + 1) // block, (cols[-1] + 1) // block))
        else:
            picks = choose_windows(score, size // block, max(1, int(round(np.sqrt(n_windows)))))
        if picks or size // 2 < MIN_WINDOW:
            break
        size = size // 2 // _texture_block(size // 2) * _texture_block(size // 2)
    # windows covering about a quarter of a large overlap are plenty (more only cost time); a small one
    # gets as many as fit, for their spread
    wanted = int(np.clip(max(4, 0.25 * both.sum() / size**2), 1, n_windows))
    out = []
    for br, bc, s in picks[:wanted]:
        r, c = min(br * block, ref.shape[0] - size), min(bc * block, ref.shape[1] - size)
        out.append((r, c, s))
    return size, out
