"""TFRecord framing, CRC-32C and the protobuf wire format (no TensorFlow)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasgym.benchmarks import tfrecord
from nasgym.benchmarks.nb101 import (
    EvaluationData,
    ModelMetrics,
    decode_model_metrics,
    encode_model_metrics,
)
from nasgym.benchmarks.tfrecord import (
    Feature,
    crc32c,
    crc32c_batch,
    decode_varint,
    encode_varint,
    iter_fields,
    iter_records,
    iter_records_with_offsets,
    mask_crc,
    masked_crc32c,
    parse_example,
    serialize_example,
    write_records,
)
from nasgym.error import CorruptDataError


# --------------------------------------------------------------------------
# CRC-32C
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "expected"),
    [  # RFC 3720 appendix B.4 and the classic check value
        (b"123456789", 0xE3069283),
        (bytes(32), 0x8A9136AA),
        (b"\xff" * 32, 0x62A8AB43),
        (bytes(range(32)), 0x46DD794E),
        (b"", 0),
    ],
)
def test_crc32c_known_values(data: bytes, expected: int) -> None:
    assert crc32c(data) == expected
    assert tfrecord._crc32c_python(data) == expected
    buffer = np.frombuffer(b"xx" + data, dtype=np.uint8)
    batch = crc32c_batch(buffer, np.array([2]), np.array([len(data)]))
    assert int(batch[0]) == expected


def test_mask_crc() -> None:
    crc = 0xE3069283
    rotated = ((crc >> 15) | (crc << 17)) & 0xFFFFFFFF
    assert mask_crc(crc) == (rotated + 0xA282EAD8) & 0xFFFFFFFF
    assert masked_crc32c(b"123456789") == mask_crc(crc)
    masked = tfrecord._mask_array(np.array([crc, 0, 0xFFFFFFFF], dtype=np.uint32))
    assert masked.tolist() == [mask_crc(crc), mask_crc(0), mask_crc(0xFFFFFFFF)]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=40))
def test_crc32c_batch_equals_scalar(chunks: list[bytes]) -> None:
    blob = b"".join(chunks)
    lengths = np.array([len(c) for c in chunks], dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    got = crc32c_batch(np.frombuffer(blob, dtype=np.uint8), starts, lengths)
    assert got.tolist() == [tfrecord._crc32c_python(c) for c in chunks]


def test_accelerator_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tfrecord, "_ACCELERATOR", None)
    assert crc32c(b"123456789") == 0xE3069283
    monkeypatch.setattr(tfrecord, "_ACCELERATOR", tfrecord._crc32c_python)
    assert crc32c(b"123456789") == 0xE3069283


# --------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------
RECORDS = [b"", b"a", b"hello world" * 40, bytes(range(256)) * 3, b"\x00" * 17]


@pytest.mark.parametrize("accelerated", [False, True])
def test_write_then_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, accelerated: bool
) -> None:
    accelerator = tfrecord._crc32c_python if accelerated else None
    monkeypatch.setattr(tfrecord, "_ACCELERATOR", accelerator)
    path = tmp_path / "x.tfrecord"
    assert write_records(path, RECORDS) == len(RECORDS)
    assert list(iter_records(path)) == RECORDS
    offsets = [offset for offset, _ in iter_records_with_offsets(path)]
    expected = np.concatenate([[0], np.cumsum([len(r) + 16 for r in RECORDS])[:-1]])
    assert offsets == expected.tolist()
    # the official layout, byte by byte, for the first non-empty record
    raw = path.read_bytes()
    start = offsets[1]
    (length,) = struct.unpack_from("<Q", raw, start)
    assert length == 1
    assert struct.unpack_from("<I", raw, start + 8)[0] == masked_crc32c(
        raw[start : start + 8]
    )
    assert raw[start + 12 : start + 13] == b"a"
    assert struct.unpack_from("<I", raw, start + 13)[0] == masked_crc32c(b"a")


def test_empty_file_has_no_records(tmp_path: Path) -> None:
    path = tmp_path / "empty.tfrecord"
    path.write_bytes(b"")
    assert list(iter_records(path)) == []


def test_many_records_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tfrecord, "_CHUNK", 7)
    monkeypatch.setattr(tfrecord, "_ACCELERATOR", None)
    rng = np.random.default_rng(0)
    records = [rng.bytes(int(n)) for n in rng.integers(0, 60, 50)]
    path = tmp_path / "many.tfrecord"
    write_records(path, records)
    assert list(iter_records(path)) == records


@pytest.mark.parametrize("accelerated", [False, True])
@pytest.mark.parametrize(
    ("where", "what"),
    [(2, "length"), (9, "length"), (12, "data"), (40, "data"), (-1, "data")],
)
def test_corrupted_byte_names_file_and_offset(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    accelerated: bool,
    where: int,
    what: str,
) -> None:
    monkeypatch.setattr(
        tfrecord, "_ACCELERATOR", tfrecord._crc32c_python if accelerated else None
    )
    path = tmp_path / "bad.tfrecord"
    write_records(path, RECORDS)
    offsets = [o for o, _ in iter_records_with_offsets(path)]
    raw = bytearray(path.read_bytes())
    record = 2  # the 440-byte one
    position = offsets[record] + (
        where if where >= 0 else 12 + len(RECORDS[record]) + 3
    )
    raw[position] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptDataError) as info:
        list(iter_records(path))
    message = str(info.value)
    assert str(path) in message
    if where in (2,):  # a flipped length bit makes the record run past the end
        assert f"byte offset {offsets[record]}" in message
    else:
        assert f"byte offset {offsets[record]} fails its {what} CRC-32C" in message
    # without verification, only framing problems are detected
    if where >= 12:
        assert len(list(iter_records(path, verify=False))) == len(RECORDS)


@pytest.mark.parametrize("cut", [1, 5, 13, 200])
def test_truncated_file_names_file_and_offset(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "short.tfrecord"
    write_records(path, RECORDS)
    offsets = [o for o, _ in iter_records_with_offsets(path)]
    raw = path.read_bytes()
    path.write_bytes(raw[:-cut])
    with pytest.raises(CorruptDataError, match="truncated") as info:
        list(iter_records(path))
    assert str(path) in str(info.value)
    assert f"offset {offsets[-1]}" in str(info.value) or f"offset {offsets[-2]}" in str(
        info.value
    )


# --------------------------------------------------------------------------
# protobuf wire format
# --------------------------------------------------------------------------
@settings(max_examples=100)
@given(st.integers(min_value=-(2**63), max_value=2**64 - 1))
def test_varint_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    decoded, end = decode_varint(encoded, 0)
    assert end == len(encoded) <= 10
    assert decoded == (value if value >= 0 else value + 2**64)
    if value < 2**63:
        assert tfrecord.to_signed64(decoded) == value


def test_wire_errors() -> None:
    with pytest.raises(ValueError, match="truncated varint"):
        decode_varint(b"\x80", 0)
    with pytest.raises(ValueError, match="longer than 10"):
        decode_varint(b"\xff" * 11, 0)
    with pytest.raises(ValueError, match="wire type"):
        list(iter_fields(b"\x0b"))  # field 1, wire type 3 (group)
    with pytest.raises(ValueError, match="truncated"):
        list(iter_fields(b"\x0a\x05ab"))
    with pytest.raises(ValueError, match="field number 0"):
        list(iter_fields(b"\x00\x01"))


EXAMPLE = {
    "name": [b"cell", b""],
    "acc": [0.5, -1.25, 3.0],
    "ids": [0, 1, -7, 2**40],
    "empty": [],
}


@pytest.mark.parametrize("packed", [True, False])
def test_example_round_trip(packed: bool) -> None:
    data = serialize_example(EXAMPLE, packed=packed)  # type: ignore[arg-type]
    parsed = parse_example(data)
    assert parsed["name"] == Feature("bytes", (b"cell", b""))
    assert parsed["acc"] == Feature("float", (0.5, -1.25, 3.0))
    assert parsed["ids"] == Feature("int64", (0, 1, -7, 2**40))
    assert parsed["empty"] == Feature("int64", ())
    given_kind = serialize_example({"x": Feature("float", (1.0,))})
    assert parse_example(given_kind)["x"] == Feature("float", (1.0,))


def _protobuf_classes() -> tuple[Any, Any]:
    """Example and ModelMetrics classes built at run time with google.protobuf."""
    pytest.importorskip("google.protobuf")
    from google.protobuf import (  # type: ignore[import-untyped,unused-ignore]
        descriptor_pb2,
        descriptor_pool,
        message_factory,
    )

    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="nasgym_test.proto", package="t", syntax="proto3"
    )

    def message(name: str, fields: list[tuple[str, int, int, int, str]]) -> None:
        m = proto.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            f = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                f.type_name = type_name

    rep, opt = field.LABEL_REPEATED, field.LABEL_OPTIONAL
    message("BytesList", [("value", 1, field.TYPE_BYTES, rep, "")])
    message("FloatList", [("value", 1, field.TYPE_FLOAT, rep, "")])
    message("Int64List", [("value", 1, field.TYPE_INT64, rep, "")])
    feature = proto.message_type.add(name="Feature")
    feature.oneof_decl.add(name="kind")
    for fname, number, type_name in (
        ("bytes_list", 1, ".t.BytesList"),
        ("float_list", 2, ".t.FloatList"),
        ("int64_list", 3, ".t.Int64List"),
    ):
        f = feature.field.add(
            name=fname, number=number, type=field.TYPE_MESSAGE, label=opt
        )
        f.type_name = type_name
        f.oneof_index = 0
    features = proto.message_type.add(name="Features")
    entry = features.nested_type.add(name="FeatureEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=field.TYPE_STRING, label=opt)
    entry.field.add(
        name="value",
        number=2,
        type=field.TYPE_MESSAGE,
        label=opt,
        type_name=".t.Feature",
    )
    features.field.add(
        name="feature",
        number=1,
        type=field.TYPE_MESSAGE,
        label=rep,
        type_name=".t.Features.FeatureEntry",
    )
    message("Example", [("features", 1, field.TYPE_MESSAGE, opt, ".t.Features")])
    metrics = descriptor_pb2.FileDescriptorProto(
        name="nasgym_metrics.proto", package="nasbench", syntax="proto2"
    )
    ev = metrics.message_type.add(name="EvaluationData")
    for number, name in enumerate(
        [
            "current_epoch",
            "training_time",
            "train_accuracy",
            "validation_accuracy",
            "test_accuracy",
        ],
        start=1,
    ):
        ev.field.add(name=name, number=number, type=field.TYPE_DOUBLE, label=opt)
    ev.field.add(name="checkpoint_path", number=6, type=field.TYPE_STRING, label=opt)
    mm = metrics.message_type.add(name="ModelMetrics")
    mm.field.add(
        name="evaluation_data",
        number=1,
        type=field.TYPE_MESSAGE,
        label=rep,
        type_name=".nasbench.EvaluationData",
    )
    mm.field.add(
        name="trainable_parameters", number=2, type=field.TYPE_INT32, label=opt
    )
    mm.field.add(name="total_time", number=3, type=field.TYPE_DOUBLE, label=opt)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    pool.Add(metrics)
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName("t.Example")),
        message_factory.GetMessageClass(
            pool.FindMessageTypeByName("nasbench.ModelMetrics")
        ),
    )


def test_example_decoder_agrees_with_google_protobuf() -> None:
    example_cls, _ = _protobuf_classes()
    msg = example_cls()
    feats = msg.features.feature
    feats["name"].bytes_list.value.extend([b"cell", b"x" * 300])
    feats["acc"].float_list.value.extend([0.5, -1.25])
    feats["ids"].int64_list.value.extend([3, -7, 2**40])
    parsed = parse_example(msg.SerializeToString())
    assert parsed == {
        "name": Feature("bytes", (b"cell", b"x" * 300)),
        "acc": Feature("float", (0.5, -1.25)),
        "ids": Feature("int64", (3, -7, 2**40)),
    }
    for packed in (True, False):
        ours = serialize_example(
            {"ids": [3, -7], "acc": [0.5], "name": [b"z"]}, packed=packed
        )
        theirs = example_cls.FromString(ours)
        assert list(theirs.features.feature["ids"].int64_list.value) == [3, -7]
        assert list(theirs.features.feature["acc"].float_list.value) == [0.5]
        assert list(theirs.features.feature["name"].bytes_list.value) == [b"z"]


def test_model_metrics_codec_agrees_with_google_protobuf() -> None:
    _, metrics_cls = _protobuf_classes()
    msg = metrics_cls(trainable_parameters=2_793_866, total_time=1234.5)
    for epoch, acc in ((0.0, 0.1), (54.0, 0.8), (108.0, 0.9375)):
        msg.evaluation_data.add(
            current_epoch=epoch,
            training_time=epoch * 10,
            train_accuracy=acc + 0.01,
            validation_accuracy=acc,
            test_accuracy=acc - 0.01,
            checkpoint_path=f"/ckpt-{int(epoch)}",
        )
    decoded = decode_model_metrics(msg.SerializeToString())
    assert decoded.trainable_parameters == 2_793_866
    assert decoded.total_time == 1234.5
    assert decoded.evaluation_data[2] == EvaluationData(
        108.0, 1080.0, 0.9475, 0.9375, 0.9275, "/ckpt-108"
    )
    ours = encode_model_metrics(decoded)
    assert metrics_cls.FromString(ours) == msg
    assert decode_model_metrics(ours) == decoded


def test_model_metrics_skips_unknown_fields_and_rejects_bad_types() -> None:
    base = encode_model_metrics(ModelMetrics((EvaluationData(4.0),), 10, 1.0))
    extra = (
        base
        + tfrecord.encode_bytes_field(9, b"energy fields")
        + tfrecord.encode_double_field(10, 2.0)
    )
    assert decode_model_metrics(extra) == decode_model_metrics(base)
    with pytest.raises(ValueError, match="wire type"):
        decode_model_metrics(tfrecord.encode_varint_field(3, 5))
    with pytest.raises(ValueError, match="not a message"):
        decode_model_metrics(tfrecord.encode_varint_field(1, 5))
