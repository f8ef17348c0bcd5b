"""TFRecord files and protobuf wire format, without TensorFlow or protobuf.

A TFRecord file is a sequence of records, each framed as::

    uint64 length            (little-endian)
    uint32 masked_crc32c(length bytes)
    byte   data[length]
    uint32 masked_crc32c(data)

where ``masked_crc32c(x) = ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2**32)`` for
``c`` the CRC-32C (Castagnoli) of ``x``. :func:`iter_records` checks both CRCs of
every record; a bad CRC or a truncated record raises
:class:`~nasgym.error.CorruptDataError` naming the file and the byte offset of the
record. :func:`write_records` writes files in the same layout.

CRC-32C: the ``google-crc32c`` or ``crc32c`` package is used when installed (an
optional accelerator); otherwise a pure NumPy implementation checks a batch of
records at once, one byte position at a time across the batch with a 256-entry
table. Both give the same values (:func:`crc32c`).

The protobuf helpers decode the wire format (varints, fixed32/64, length-delimited
fields) and, on top of it, ``tf.train.Example`` (:func:`parse_example`, with
:func:`serialize_example` as its inverse for tests).
"""

from __future__ import annotations

import importlib
import os
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import CorruptDataError

_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected
_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()
_TABLE_NP = np.array(_TABLE, dtype=np.uint32)


def _crc32c_python(data: bytes | bytearray | memoryview) -> int:
    crc = _U32
    table = _TABLE
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _U32


def _load_accelerator() -> Callable[[bytes], int] | None:
    """A compiled CRC-32C function from an optional package, if one is installed."""
    for module_name, function_name in (
        ("google_crc32c", "value"),
        ("crc32c", "crc32c"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        function = getattr(module, function_name, None)
        if callable(function) and function(b"123456789") == 0xE3069283:
            compiled: Callable[[bytes], int] = function
            return compiled
    return None


_ACCELERATOR = _load_accelerator()


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C (Castagnoli) of ``data``.

    Example:
        >>> hex(crc32c(b"123456789"))
        '0xe3069283'
    """
    if _ACCELERATOR is not None:
        return _ACCELERATOR(bytes(data))
    return _crc32c_python(data)


def mask_crc(crc: int) -> int:
    """TFRecord's masking of a CRC-32C value."""
    return ((((crc >> 15) | (crc << 17)) & _U32) + _MASK_DELTA) & _U32


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """``mask_crc(crc32c(data))``, as stored in TFRecord frames."""
    return mask_crc(crc32c(data))


def crc32c_batch(
    buffer: NDArray[np.uint8],
    starts: NDArray[np.int64],
    lengths: NDArray[np.int64],
) -> NDArray[np.uint32]:
    """CRC-32C of many slices of one buffer at once, in pure NumPy.

    Slices are processed together, one byte position per step (longest first), so
    the Python loop runs ``max(lengths)`` times whatever the number of slices.

    Args:
        buffer: The bytes (1-D ``uint8``).
        starts: Start offset of every slice.
        lengths: Length of every slice.

    Returns:
        The CRC of every slice, in input order.
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    count = starts.size
    out = np.empty(count, dtype=np.uint32)
    if count == 0:
        return out
    order = np.argsort(-lengths, kind="stable")
    s = starts[order]
    lens = lengths[order]
    crc = np.full(count, _U32, dtype=np.uint32)
    longest = int(lens[0])
    # active[j] = number of slices longer than j (a prefix, as lengths descend)
    active = count - np.searchsorted(lens[::-1], np.arange(longest), side="right")
    table = _TABLE_NP
    shift = np.uint32(8)
    low = np.uint32(0xFF)
    for j in range(longest):
        k = int(active[j])
        c = crc[:k]
        byte = buffer[s[:k] + j]
        crc[:k] = table[(c ^ byte) & low] ^ (c >> shift)
    out[order] = crc ^ np.uint32(_U32)
    return out


def _mask_array(crc: NDArray[np.uint32]) -> NDArray[np.uint32]:
    c = crc.astype(np.uint64)
    rotated = ((c >> np.uint64(15)) | (c << np.uint64(17))) & np.uint64(_U32)
    out: NDArray[np.uint32] = (
        (rotated + np.uint64(_MASK_DELTA)) & np.uint64(_U32)
    ).astype(np.uint32)
    return out


# ---------------------------------------------------------------------------
# Reading and writing records
# ---------------------------------------------------------------------------
_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
#: Bytes read per step; the records complete in a step are CRC-checked together.
_CHUNK = 1 << 24


def _frames(
    buf: bytes, base: int, name: str, at_end: bool
) -> tuple[list[tuple[int, int]], int]:
    """Complete frames at the start of ``buf``: ``[(position, length)]``, bytes used.

    ``base`` is the file offset of ``buf[0]``. An incomplete frame at the end is left
    for the next read, or reported as truncation when ``at_end``.
    """
    frames: list[tuple[int, int]] = []
    pos = 0
    size = len(buf)
    unpack = _HEADER.unpack_from
    while pos < size:
        if size - pos < _HEADER.size:
            if at_end:
                raise CorruptDataError(
                    f"{name}: truncated TFRecord header at byte offset {base + pos} "
                    f"({size - pos} of {_HEADER.size} bytes present)"
                )
            break
        length, _ = unpack(buf, pos)
        end = pos + _HEADER.size + length + _FOOTER.size
        if end > size:
            if at_end:
                raise CorruptDataError(
                    f"{name}: truncated TFRecord record at byte offset {base + pos}: "
                    f"it declares {length} data bytes but the file ends after "
                    f"{size - pos - _HEADER.size} (or its length field is corrupt)"
                )
            break
        frames.append((pos, length))
        pos = end
    return frames, pos


def _check_batch(
    buf: bytes, base: int, frames: Sequence[tuple[int, int]], name: str
) -> None:
    """Check the length and data CRCs of frames at positions in ``buf``."""
    count = len(frames)
    positions = np.fromiter((p for p, _ in frames), dtype=np.int64, count=count)
    lengths = np.fromiter((n for _, n in frames), dtype=np.int64, count=count)
    stored_len_crc = np.fromiter(
        (_HEADER.unpack_from(buf, p)[1] for p, _ in frames),
        dtype=np.uint32,
        count=count,
    )
    stored_data_crc = np.fromiter(
        (_FOOTER.unpack_from(buf, p + 12 + n)[0] for p, n in frames),
        dtype=np.uint32,
        count=count,
    )
    if _ACCELERATOR is not None:
        acc = _ACCELERATOR
        len_crc = np.fromiter(
            (mask_crc(acc(buf[p : p + 8])) for p, _ in frames),
            dtype=np.uint32,
            count=count,
        )
        data_crc = np.fromiter(
            (mask_crc(acc(buf[p + 12 : p + 12 + n])) for p, n in frames),
            dtype=np.uint32,
            count=count,
        )
    else:
        array = np.frombuffer(buf, dtype=np.uint8)
        eight = np.full(count, 8, dtype=np.int64)
        len_crc = _mask_array(crc32c_batch(array, positions, eight))
        data_crc = _mask_array(crc32c_batch(array, positions + 12, lengths))
    bad_len = len_crc != stored_len_crc
    bad_data = data_crc != stored_data_crc
    bad = np.flatnonzero(bad_len | bad_data)
    if bad.size:
        first = int(bad[0])
        what = "length" if bad_len[first] else "data"
        raise CorruptDataError(
            f"{name}: TFRecord record at byte offset {base + int(positions[first])} "
            f"fails its {what} CRC-32C check (the file is corrupted; download it "
            f"again)"
        )


def _check_first_header(head: bytes, name: str) -> None:
    """Refuse a file whose first 12 bytes are not a TFRecord header.

    Without this, any other file reads as one record with a garbage length: "truncated
    record" would send the user looking for a bad download instead of a wrong file.
    """
    if not head:
        return
    if (
        len(head) < _HEADER.size
        or mask_crc(crc32c(head[:8])) != _HEADER.unpack(head)[1]
    ):
        raise CorruptDataError(
            f"{name} is not a TFRecord file: its first {min(len(head), 12)} bytes are "
            f"not a record header (a 64-bit length and its CRC-32C)"
        )


def iter_records_with_offsets(
    path: str | os.PathLike[str], *, verify: bool = True
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(byte offset, data)`` of every record of a TFRecord file.

    The file is read in chunks; the records complete in a chunk are CRC-checked
    together before any of them is yielded.

    Args:
        path: The file.
        verify: Check both CRCs of every record (default).

    Raises:
        CorruptDataError: A record is truncated or fails a CRC check (the message
            names the file and the byte offset of the record).
        OSError: The file cannot be opened.
    """
    name = str(path)
    with open(path, "rb") as handle:
        _check_first_header(handle.read(_HEADER.size), name)
        handle.seek(0)
        buf = b""
        base = 0
        at_end = False
        while True:
            if not at_end:
                more = handle.read(_CHUNK)
                if more:
                    buf += more
                else:
                    at_end = True
            frames, used = _frames(buf, base, name, at_end)
            if frames:
                if verify:
                    _check_batch(buf, base, frames, name)
                for pos, length in frames:
                    yield base + pos, buf[pos + 12 : pos + 12 + length]
            buf = buf[used:]
            base += used
            if at_end and not buf:
                return


def iter_records(
    path: str | os.PathLike[str], *, verify: bool = True
) -> Iterator[bytes]:
    """Yield the data of every record of a TFRecord file.

    See :func:`iter_records_with_offsets`.

    Raises:
        CorruptDataError: A record is truncated or fails a CRC check.
    """
    for _, data in iter_records_with_offsets(path, verify=verify):
        yield data


def frame_record(data: bytes) -> bytes:
    """One record in TFRecord framing."""
    header = struct.pack("<Q", len(data))
    return (
        header
        + struct.pack("<I", masked_crc32c(header))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


def write_records(path: str | os.PathLike[str], records: Iterable[bytes]) -> int:
    """Write records to a TFRecord file (official framing, uncompressed).

    Returns:
        The number of records written.
    """
    count = 0
    with open(Path(path), "wb") as handle:
        for data in records:
            handle.write(frame_record(bytes(data)))
            count += 1
    return count


# ---------------------------------------------------------------------------
# Protobuf wire format
# ---------------------------------------------------------------------------
VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def encode_varint(value: int) -> bytes:
    """Base-128 varint; negative values as 64-bit two's complement (10 bytes)."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a varint at ``pos``; return ``(value, next position)``.

    Raises:
        ValueError: The varint runs past the end or over 10 bytes.
    """
    result = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint longer than 10 bytes")


def to_signed64(value: int) -> int:
    """Interpret a decoded varint as a two's complement ``int64``."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


FieldValue = int | bytes


def iter_fields(buf: bytes) -> Iterator[tuple[int, int, FieldValue]]:
    """Yield ``(field number, wire type, value)`` of a serialized message.

    Values: varints as unsigned ``int``; fixed64/fixed32 as their raw 8/4 bytes;
    length-delimited fields as their payload bytes.

    Raises:
        ValueError: Malformed message (truncated field, unsupported wire type).
    """
    pos = 0
    end = len(buf)
    while pos < end:
        key, pos = decode_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == VARINT:
            value, pos = decode_varint(buf, pos)
            yield number, wire, value
        elif wire == FIXED64:
            if pos + 8 > end:
                raise ValueError("truncated fixed64 field")
            yield number, wire, buf[pos : pos + 8]
            pos += 8
        elif wire == LENGTH_DELIMITED:
            length, pos = decode_varint(buf, pos)
            if pos + length > end:
                raise ValueError("truncated length-delimited field")
            yield number, wire, buf[pos : pos + length]
            pos += length
        elif wire == FIXED32:
            if pos + 4 > end:
                raise ValueError("truncated fixed32 field")
            yield number, wire, buf[pos : pos + 4]
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire} (field {number})")


def field_key(number: int, wire: int) -> bytes:
    """The encoded key of a field."""
    return encode_varint(number << 3 | wire)


def encode_bytes_field(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return field_key(number, LENGTH_DELIMITED) + encode_varint(len(payload)) + payload


def encode_double_field(number: int, value: float) -> bytes:
    """A ``double`` field (fixed64)."""
    return field_key(number, FIXED64) + struct.pack("<d", value)


def encode_varint_field(number: int, value: int) -> bytes:
    """An integer field (varint)."""
    return field_key(number, VARINT) + encode_varint(value)


# ---------------------------------------------------------------------------
# tf.train.Example
# ---------------------------------------------------------------------------
FeatureValues = tuple[bytes, ...] | tuple[float, ...] | tuple[int, ...]


@dataclass(frozen=True)
class Feature:
    """One ``tf.train.Feature``.

    Attributes:
        kind: ``"bytes"``, ``"float"`` or ``"int64"`` (which list is set);
            ``"none"`` when the feature sets none.
        values: The list's values.
    """

    kind: str
    values: FeatureValues


def _packed_or_single(
    wire: int, value: FieldValue, fixed: str | None
) -> list[int] | list[float]:
    if fixed is not None:  # float list: fixed32 values
        if wire == FIXED32:
            assert isinstance(value, bytes)
            return [float(struct.unpack("<f", value)[0])]
        if wire == LENGTH_DELIMITED:
            assert isinstance(value, bytes)
            if len(value) % 4:
                raise ValueError("packed float list length is not a multiple of 4")
            floats: list[float] = (
                np.frombuffer(value, dtype="<f4").astype(np.float64).tolist()
            )
            return floats
        raise ValueError(f"float list value with wire type {wire}")
    if wire == VARINT:
        assert isinstance(value, int)
        return [to_signed64(value)]
    if wire == LENGTH_DELIMITED:
        assert isinstance(value, bytes)
        out: list[int] = []
        pos = 0
        while pos < len(value):
            item, pos = decode_varint(value, pos)
            out.append(to_signed64(item))
        return out
    raise ValueError(f"int64 list value with wire type {wire}")


def _parse_feature(buf: bytes) -> Feature:
    kind = "none"
    values: list[Any] = []
    for number, wire, list_msg in iter_fields(buf):
        if number not in (1, 2, 3):
            continue
        if wire != LENGTH_DELIMITED:
            raise ValueError(f"Feature field {number} has wire type {wire}")
        assert isinstance(list_msg, bytes)
        new_kind = {1: "bytes", 2: "float", 3: "int64"}[number]
        if new_kind != kind:  # oneof: the last one set wins
            kind, values = new_kind, []
        for inner, inner_wire, value in iter_fields(list_msg):
            if inner != 1:
                continue
            if number == 1:
                if inner_wire != LENGTH_DELIMITED:
                    raise ValueError("BytesList value is not length-delimited")
                assert isinstance(value, bytes)
                values.append(value)
            else:
                fixed = "f" if number == 2 else None
                values.extend(_packed_or_single(inner_wire, value, fixed))
    return Feature(kind, tuple(values))


def parse_example(data: bytes) -> dict[str, Feature]:
    """Decode a serialized ``tf.train.Example`` into ``{name: Feature}``.

    Both packed and unpacked encodings of float and int64 lists are accepted.

    Raises:
        ValueError: The bytes are not a well-formed ``Example``.
    """
    features: dict[str, Feature] = {}
    for number, wire, value in iter_fields(data):
        if number != 1 or wire != LENGTH_DELIMITED:
            continue
        assert isinstance(value, bytes)
        for f_number, f_wire, entry in iter_fields(value):  # Features
            if f_number != 1 or f_wire != LENGTH_DELIMITED:
                continue
            assert isinstance(entry, bytes)
            key = ""
            feature = Feature("none", ())
            for e_number, e_wire, e_value in iter_fields(entry):  # map entry
                if e_wire != LENGTH_DELIMITED:
                    continue
                assert isinstance(e_value, bytes)
                if e_number == 1:
                    key = e_value.decode("utf-8")
                elif e_number == 2:
                    feature = _parse_feature(e_value)
            features[key] = feature
    return features


def serialize_example(
    features: Mapping[str, Sequence[bytes] | Sequence[float] | Sequence[int] | Feature],
    *,
    packed: bool = True,
) -> bytes:
    """Encode a ``tf.train.Example`` (inverse of :func:`parse_example`).

    Args:
        features: ``{name: values}``; the kind is taken from the values' type
            (``bytes``, ``float``, ``int``; an empty list becomes an empty int64
            list) or given by a :class:`Feature`.
        packed: Encode float and int64 lists packed (TensorFlow's default) or as
            repeated fields.
    """
    entries = b""
    values: list[Any]
    for key, spec in features.items():
        if isinstance(spec, Feature):
            kind, values = spec.kind, list(spec.values)
        else:
            values = list(spec)
            if values and isinstance(values[0], (bytes, bytearray)):
                kind = "bytes"
            elif values and isinstance(values[0], float):
                kind = "float"
            else:
                kind = "int64"
        body = b""
        if kind == "bytes":
            body = b"".join(encode_bytes_field(1, bytes(v)) for v in values)
            feature = encode_bytes_field(1, body)
        elif kind == "float":
            if packed:
                body = encode_bytes_field(1, np.asarray(values, dtype="<f4").tobytes())
            else:
                body = b"".join(
                    field_key(1, FIXED32) + struct.pack("<f", float(v)) for v in values
                )
            feature = encode_bytes_field(2, body)
        elif kind == "int64":
            if packed:
                body = encode_bytes_field(
                    1,
                    b"".join(encode_varint(int(v)) for v in values),
                )
            else:
                body = b"".join(encode_varint_field(1, int(v)) for v in values)
            feature = encode_bytes_field(3, body)
        else:
            feature = b""
        entry = encode_bytes_field(1, key.encode("utf-8")) + encode_bytes_field(
            2, feature
        )
        entries += encode_bytes_field(1, entry)
    return encode_bytes_field(1, entries)
