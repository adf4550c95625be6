"""Hand-written text files (claims TOML, AOI GeoJSON) read as UTF-8, as their formats require, with the
encodings Windows editors save in told apart: a refusal that says which encoding it is and what to do."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from geo.errors import GeoError

# Checked longest first: a UTF-32 LE mark begins with the UTF-16 LE one.
_OTHER_MARKS = ((codecs.BOM_UTF32_LE, "UTF-32 text"), (codecs.BOM_UTF32_BE, "UTF-32 text"),
                (codecs.BOM_UTF16_LE, "UTF-16 text (Notepad's 'Unicode')"),
                (codecs.BOM_UTF16_BE, "UTF-16 text (Notepad's 'Unicode big endian')"))


def read_utf8_text(path: Path, what: str, format_name: str, error: type[GeoError]) -> str:
    """The text of ``path`` (a ``what``, e.g. "claims file", in ``format_name``, "TOML"): UTF-8, with or without a
    byte-order mark (Notepad, PowerShell and some GIS exports write one; RFC 8259 lets a parser skip it, GDAL
    does); else ``error`` naming the file, what it holds instead (UTF-16, another 8-bit encoding, binary) and
    that it must be saved as UTF-8."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    save_as = f"{format_name} is UTF-8: save the file again as UTF-8"
    encoding = next((name for mark, name in _OTHER_MARKS if raw.startswith(mark)), None)
    if encoding is not None:
        raise error(f"{path}: {encoding}; {save_as} (Notepad: Save As, Encoding UTF-8)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if b"\0" in raw[:4096]:
            raise error(f"{path}: not a text file ({format_name} is UTF-8 text)") from None
        raise error(f"{path}: not UTF-8 text (byte {exc.start + 1}); {save_as}") from None


# Characters no XML 1.0 document may hold (C0 controls but tab and line ends, lone surrogates, U+FFFE/U+FFFF): a
# name carrying one (pasted from a PDF or a terminal; JSON's \u000b and TOML's \u0000 escapes) made project.qgz and
# changes.kml documents QGIS and Google Earth cannot parse, and a lone surrogate cannot be written as UTF-8 at all.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def plain_text(value: str, field: str, where: str, error: type[GeoError]) -> str:
    """``value`` of ``field`` (how the format calls it: "field 'statement'", "property 'name'") when it holds only
    characters text files can carry; else ``error`` naming the character (its code point) and where it is."""
    found = _NOT_TEXT.search(value)
    if found is not None:
        character = f"U+{ord(found.group()):04X}"
        raise error(f"{where}: {field} holds the control character {character} at character {found.start() + 1} "
                    f"({value[:found.start()][-20:]!r} before it); remove it (pasted text can carry one)")
    return value
