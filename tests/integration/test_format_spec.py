"""test_format_spec.py — a reader of .hsnap snapshots written from dumpfmt/FORMAT.md alone (no C
source was consulted), checked against the real `heapsnap` binary: it validates every byte as
FORMAT.md says (magic, version, flags, CRC-32C, runs, varints, ids, index, trailer) and renders the
snapshot as the JSON lines of `heapsnap export` (DESIGN.md, "Interchange"), which must match the
binary's output byte for byte.

It checks: (1) tests/fixtures/small.hsnap renders as `heapsnap export` prints it and as
small.export.jsonl; (2) a random 150000-object graph converted by `heapsnap convert` renders as
`heapsnap export` prints it (its objects' memory and allocation sites too: §4.5's tails); (3) truncated.hsnap and bitflip.hsnap are rejected at the offsets of
their damage; (4) random files written from FORMAT.md (label forms, runs and orders `convert` never
makes) render as `heapsnap export` prints them; (5) files that break one rule each are rejected by
both readers. Where FORMAT.md and the binary were seen to disagree, or FORMAT.md is silent, it
prints `gap:` lines (not failures).

usage: test_format_spec.py HEAPSNAP FIXTURES_DIR

Pure Python 3.8+, standard library only, and the `zstd` program (Debian's zstd) for §2.4's
packed payloads: Python's standard library has no Zstandard before 3.14.
"""
import json
import os
import re
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

# --------------------------------------------------------------------------------------------
# CRC-32C (Castagnoli), FORMAT.md §2.2: reflected polynomial 0x82F63B78, init and final XOR ~0.


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    """CRC-32C of data; crc chains a previous result (crc32c(a + b) == crc32c(b, crc32c(a)))."""
    table = CRC32C_TABLE
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --------------------------------------------------------------------------------------------
# The format's constants (FORMAT.md §2, §3, §4).

MAGIC = b"HSNP\r\n\x1a\n"
END_MARKER = b"HSNPEND\n"
MAJOR = 2          # what this file's writer writes
OLDEST_MAJOR = 1   # a reader reads major versions 1 and 2
PACKED = 0x80      # §2.4: a kind byte with this bit has a packed payload
PACK_MAX = 1 << 24

HEADER, STRINGS, TYPES, META, OBJECTS, EDGES, VALUES, WEAK, ROOTS, INDEX = range(1, 11)
KIND_NAMES = {HEADER: "HEADER", STRINGS: "STRINGS", TYPES: "TYPES", META: "META",
              OBJECTS: "OBJECTS", EDGES: "EDGES", VALUES: "VALUES", WEAK: "WEAK",
              ROOTS: "ROOTS", INDEX: "INDEX"}
EDGE_KIND_NAMES = {0: "traverse", 1: "owned", 2: "conservative"}

LABEL_NONE, LABEL_ORDINAL, LABEL_EXPLICIT = 0, 1, 2
FORM_INDEX, FORM_STRING, FORM_KEY, FORM_ATTR = 2, 3, 4, 5

U64_MAX = (1 << 64) - 1


class SpecError(Exception):
    """A violation of FORMAT.md; offset is the file offset of the offending byte or record."""

    def __init__(self, offset, message):
        Exception.__init__(self, "offset %d: %s" % (offset, message))
        self.offset = offset
        self.message = message


class Cursor(object):
    """Decodes the primitive encodings of FORMAT.md §1 from data[pos:end] (one payload)."""

    def __init__(self, data, pos, end, what):
        self.data, self.pos, self.end, self.what = data, pos, end, what

    def remaining(self):
        return self.end - self.pos

    def u8(self):
        if self.pos >= self.end:
            raise SpecError(self.pos, "%s payload ends inside a u8" % self.what)
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self):
        data, pos, end = self.data, self.pos, self.end
        result = shift = 0
        for i in range(10):
            if pos >= end:
                raise SpecError(pos, "%s payload ends inside a varint" % self.what)
            b = data[pos]
            if i == 9 and b > 1:  # the 10th byte may only be 0x00 or 0x01
                raise SpecError(pos, "varint longer than 10 bytes or above 2^64 - 1")
            pos += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                self.pos = pos
                return result
            shift += 7
        raise AssertionError("unreachable")

    def bytes_(self):
        at = self.pos
        n = self.varint()
        if n > self.end - self.pos:
            raise SpecError(at, "%s: bytes of length %d run past the payload" % (self.what, n))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def count(self, min_item_bytes, what):
        """A count of items of at least min_item_bytes each, which must fit in what remains."""
        at = self.pos
        n = self.varint()
        if n * min_item_bytes > self.end - self.pos:
            raise SpecError(at, "%s: %s count %d does not fit in the %d bytes that remain"
                            % (self.what, what, n, self.end - self.pos))
        return n

    def done(self):
        if self.pos != self.end:
            raise SpecError(self.pos, "%d stray bytes at the end of the %s payload"
                            % (self.end - self.pos, self.what))


def zstd_content_size(frame):
    """The content size a Zstandard frame's header declares (RFC 8878 §3.1.1.1), or None."""
    if len(frame) < 5 or frame[:4] != b"\x28\xb5\x2f\xfd":
        return None
    fhd = frame[4]
    single, did_flag, fcs_flag = fhd >> 5 & 1, fhd & 3, fhd >> 6
    at = 5 + (0 if single else 1) + [0, 1, 2, 4][did_flag]
    size = [1 if single else 0, 2, 4, 8][fcs_flag]
    if size == 0 or len(frame) < at + size:
        return None
    value = int.from_bytes(frame[at:at + size], "little")
    return value + 256 if size == 2 else value


def zstd(args, data):
    p = subprocess.run(["zstd", "-q", "-c"] + args, input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return p.stdout if p.returncode == 0 else None


def pack(payload):
    """§2.4: a packed payload, the length then one Zstandard frame declaring it."""
    return uv(len(payload)) + zstd(["-1", "--no-check", "--stream-size=%d" % len(payload)],
                                   payload)


def unpack(data, pos, end, kind):
    """The payload a packed record data[pos:end] holds (§2.4); SpecError at the record."""
    c = Cursor(data, pos + 9, end, KIND_NAMES[kind])
    n = c.varint()
    if n > PACK_MAX:
        raise SpecError(pos, "packed payload of %d bytes, above 2^24" % n)
    frame = bytes(data[c.pos:end])
    if zstd_content_size(frame) != n:
        raise SpecError(pos, "packed payload: the frame does not declare %d bytes" % n)
    out = zstd(["-d"], frame)
    if out is None or len(out) != n:
        raise SpecError(pos, "packed payload does not decompress to %d bytes" % n)
    return out


def unzigzag(u):
    return (u >> 1) ^ -(u & 1)


def zigzag(v):
    return (v << 1) ^ (v >> 63) if v < 0 else v << 1


# --------------------------------------------------------------------------------------------
# The reader.


class Snapshot(object):
    """A decoded, validated .hsnap file."""

    def __init__(self):
        self.version = None          # (major, minor)
        self.header = None           # dict of the HEADER fields
        self.strings = []            # bytes
        self.types = []              # (name id, module id, default size, type object + 1, flags)
        self.meta = []               # (key bytes, value bytes), all pairs in file order
        self.addrs = []              # per object
        self.type_ids = []
        self.sizes = []              # None: the type's default size
        self.refcnts = []
        self.flags = []              # the u8: bits 0-4 flags, 5-7 generation code
        self.edge_start = []         # per object: index of its first edge in the edge lists
        self.edge_dst = []
        self.edge_kind = []
        self.edge_label = []         # None, ("o", ordinal), (form, value)
        self.values = {}             # object index -> preview bytes
        self.memory = {}             # object index -> memory less size (§4.5 memory tail)
        self.has_memory = False      # some OBJECTS run has a memory tail
        self.sites = {}              # object index -> (file string id, line) (§4.5 site tail)
        self.weak = []               # (ref, referent or None, callback or None)
        self.roots = []              # (object, kind id, name id)
        self.records = []            # (kind, offset, record length)


def read_tails(c, snap, first, count, deferred):
    """An OBJECTS run's optional tails (§4.5): the memory tail, `count` zigzag varints of memory
    less size, each way below 2^31; after it, the site tail, per object a `file` varint (string
    id + 1, 0: no site) and, when it is not 0, a `line` varint below 2^32."""
    if c.pos == c.end:
        return
    snap.has_memory = True
    for i in range(first, first + count):
        at = c.pos
        d = unzigzag(c.varint())
        if not -(1 << 31) <= d < 1 << 31:
            raise SpecError(at, "memory less size %d not within 2^31" % d)
        snap.memory[i] = d
    if c.pos == c.end:
        return
    for i in range(first, first + count):
        at = c.pos
        f = c.varint()
        if f:
            line_at = c.pos
            line = c.varint()
            if line >= 1 << 32:
                raise SpecError(line_at, "site line %d not below 2^32" % line)
            deferred.append((at, f - 1, "strings", "object site file"))
            snap.sites[i] = (f - 1, line)


def read_hsnap(data):
    """Decode and validate data (the bytes of a .hsnap file) as FORMAT.md says; raise SpecError
    naming the offset of the first damage found."""
    snap = Snapshot()
    size = len(data)

    # §2.1 file header.
    if size < 16:
        raise SpecError(0, "file of %d bytes is shorter than the 16-byte header" % size)
    if data[0:8] != MAGIC:
        raise SpecError(0, "bad magic %r" % bytes(data[0:8]))
    major, minor, flags = struct.unpack_from("<HHI", data, 8)
    if not OLDEST_MAJOR <= major <= MAJOR:
        raise SpecError(8, "major version %d, not %d to %d" % (major, OLDEST_MAJOR, MAJOR))
    if flags != 0:
        raise SpecError(12, "flags %#x, not 0" % flags)
    snap.version = (major, minor)

    # §2.2 section records, walked from offset 16 up to and including the INDEX.
    pos = 16
    records = []  # (kind, offset, payload start, payload end)
    packed = {}  # offset -> the unpacked payload of a packed record (§2.4)
    while True:
        if size - pos < 9:
            raise SpecError(pos, "section record header runs past the end of the file")
        kind = data[pos] & ~PACKED
        (length,) = struct.unpack_from("<Q", data, pos + 1)
        if kind not in KIND_NAMES:
            raise SpecError(pos, "unknown section kind %d" % kind)
        if length > size - pos - 13:
            raise SpecError(pos, "%s section of %d bytes runs past the end of the file"
                            % (KIND_NAMES[kind], length))
        end = pos + 9 + length
        (stored,) = struct.unpack_from("<I", data, end)
        computed = crc32c(memoryview(data)[pos:end])
        if stored != computed:
            raise SpecError(pos, "%s section checksum mismatch (stored %08x, computed %08x)"
                            % (KIND_NAMES[kind], stored, computed))
        if not records and kind != HEADER:
            raise SpecError(pos, "first section is %s, not HEADER" % KIND_NAMES[kind])
        if records and kind == HEADER:
            raise SpecError(pos, "a second HEADER section")
        if data[pos] & PACKED:
            if major < 2 or kind in (HEADER, INDEX):
                raise SpecError(pos, "%s section packed" % KIND_NAMES[kind])
            packed[pos] = unpack(data, pos, end, kind)
        records.append((kind, pos, pos + 9, end))
        pos = end + 4
        if kind == INDEX:
            break

    # §2.3 trailer.
    index_offset = records[-1][1]
    if size - pos != 16:
        raise SpecError(pos, "%d bytes after the INDEX section where the 16-byte trailer belongs"
                        % (size - pos))
    (trailer_offset,) = struct.unpack_from("<Q", data, pos)
    if data[pos + 8:pos + 16] != END_MARKER:
        raise SpecError(pos + 8, "bad end marker %r" % bytes(data[pos + 8:pos + 16]))
    if trailer_offset != index_offset:
        raise SpecError(pos, "trailer names offset %d, the INDEX is at %d"
                        % (trailer_offset, index_offset))

    # §3.1 runs: next expected `first` per kind.
    next_first = {STRINGS: 0, TYPES: 0, OBJECTS: 0, EDGES: 0}
    object_runs = {}  # first -> count, of the OBJECTS runs seen so far
    # References checked once the whole file is read (ids may point forwards, §3.1):
    # (offset, value, table, what).
    deferred = []
    n_edge_records = 0

    def obj_ref(offset, idx, what):
        if idx >= len(snap.addrs):
            deferred.append((offset, idx, "objects", what))

    def str_ref(offset, sid, what):
        if sid >= len(snap.strings):
            deferred.append((offset, sid, "strings", what))

    for kind, rec_offset, start, end in records:
        name = KIND_NAMES[kind]
        c = Cursor(data, start, end, name)
        if rec_offset in packed:
            c = Cursor(packed[rec_offset], 0, len(packed[rec_offset]), name)
        # An error inside a packed payload names its record's offset (§5).
        try:
            if kind == HEADER:
                h = {}
                h["producer"] = c.bytes_()
                h["runtime"] = c.bytes_()
                h["runtime_version"] = c.bytes_()
                at = c.pos
                h["pointer_size"] = c.varint()
                if h["pointer_size"] > 16:
                    raise SpecError(at, "pointer size %d above 16" % h["pointer_size"])
                at = c.pos
                h["pid"] = c.varint()
                if h["pid"] >= 1 << 32:
                    raise SpecError(at, "pid %d not below 2^32" % h["pid"])
                h["time"] = c.varint()
                at = c.pos
                h["method"] = c.varint()
                if h["method"] > 5:
                    raise SpecError(at, "method %d (0-5 are defined)" % h["method"])
                snap.header = h
                # Later minor versions may append fields: the rest is ignored (§4.1).
                continue

            if kind in next_first:
                at = c.pos
                first = c.varint()
                if first != next_first[kind]:
                    raise SpecError(at, "%s run starts at %d, not %d (runs must be contiguous)"
                                    % (name, first, next_first[kind]))

            if kind == STRINGS:
                count = c.count(1, "string")
                for _ in range(count):
                    snap.strings.append(c.bytes_())
                next_first[kind] = first + count
            elif kind == TYPES:
                count = c.count(5, "type")
                for _ in range(count):
                    rec = []
                    for field in ("name", "module"):
                        at = c.pos
                        sid = c.varint()
                        str_ref(at, sid, "type %s string id" % field)
                        rec.append(sid)
                    rec.append(c.varint())  # default size
                    at = c.pos
                    tobj = c.varint()
                    if tobj:
                        obj_ref(at, tobj - 1, "type object")
                    rec.append(tobj)
                    # Flags: "other bits 0" (§4.3), but §5 does not ask a reader to check it and
                    # heapsnap's reader does not.
                    rec.append(c.varint())
                    snap.types.append(tuple(rec))
                next_first[kind] = first + count
            elif kind == META:
                count = c.count(2, "meta pair")
                for _ in range(count):
                    key = c.bytes_()
                    snap.meta.append((key, c.bytes_()))
            elif kind == OBJECTS:
                if next_first[EDGES] != next_first[OBJECTS]:
                    raise SpecError(c.pos, "OBJECTS run before the EDGES run of objects %d..%d"
                                    % (next_first[EDGES], next_first[OBJECTS]))
                count = c.count(4, "object")
                at = c.pos
                addr = c.varint()
                if snap.addrs and addr <= snap.addrs[-1]:
                    raise SpecError(at, "run's first address %#x not above the previous run's last %#x"
                                    % (addr, snap.addrs[-1]))
                addrs, type_ids, sizes = snap.addrs, snap.type_ids, snap.sizes
                refcnts, oflags = snap.refcnts, snap.flags
                for k in range(count):
                    at = c.pos
                    delta = c.varint()
                    if k == 0:
                        if delta != 0:
                            raise SpecError(at, "first record of an OBJECTS run has address delta %d"
                                            % delta)
                    else:
                        if delta == 0:
                            raise SpecError(at, "address delta 0: addresses must increase")
                        addr += delta
                        if addr > U64_MAX:
                            raise SpecError(at, "address above 2^64 - 1")
                    at = c.pos
                    tw = c.varint()
                    tid = tw >> 1
                    if tid >= len(snap.types):
                        deferred.append((at, tid, "types", "object type id"))
                    osize = c.varint() if tw & 1 else None
                    refcnt = c.varint()
                    at = c.pos
                    f = c.u8()
                    if 4 <= f >> 5 <= 6:
                        raise SpecError(at, "generation code %d" % (f >> 5))
                    addrs.append(addr)
                    type_ids.append(tid)
                    sizes.append(osize)
                    refcnts.append(refcnt)
                    oflags.append(f)
                if len(addrs) > 1 << 32:
                    raise SpecError(rec_offset, "more than 2^32 objects")
                read_tails(c, snap, first, count, deferred)
                object_runs[first] = count
                next_first[kind] = first + count
            elif kind == EDGES:
                at = c.pos
                count = c.varint()
                if object_runs.get(first) != count:
                    raise SpecError(at, "EDGES run %d+%d covers no OBJECTS run before it"
                                    % (first, count))
                at_total = c.pos
                total = c.count(1, "edge")
                seen = 0
                for src in range(first, first + count):
                    n = c.count(1, "edge")
                    snap.edge_start.append(n_edge_records)
                    prev = src
                    for i in range(n):
                        at = c.pos
                        head = c.varint()
                        dst = prev + unzigzag(head >> 3)
                        if dst < 0 or dst >= 1 << 32:
                            raise SpecError(at, "edge target index %d out of range" % dst)
                        obj_ref(at, dst, "edge target")
                        prev = dst
                        if head & 4:
                            at = c.pos
                            ekind = c.u8()
                            if ekind not in (1, 2):
                                raise SpecError(at, "edge kind %d after a kind-follows bit" % ekind)
                        else:
                            ekind = 0
                        bits = head & 3
                        if bits == LABEL_NONE:
                            label = None
                        elif bits == LABEL_ORDINAL:
                            label = ("o", i)
                        elif bits == LABEL_EXPLICIT:
                            at = c.pos
                            lv = c.varint()
                            form, value = lv & 7, lv >> 3
                            if form == FORM_INDEX:
                                if value >= 1 << 32:
                                    raise SpecError(at, "INDEX label %d not below 2^32" % value)
                            elif form == FORM_STRING:
                                str_ref(at, value, "STRING label")
                            elif form in (FORM_KEY, FORM_ATTR):
                                obj_ref(at, value, "KEY/ATTR label")
                            else:
                                raise SpecError(at, "explicit label form %d" % form)
                            label = (form, value)
                        else:
                            raise SpecError(at, "label bits 3")
                        snap.edge_dst.append(dst)
                        snap.edge_kind.append(ekind)
                        snap.edge_label.append(label)
                        n_edge_records += 1
                    seen += n
                if seen != total:
                    raise SpecError(at_total, "EDGES section says %d edges, holds %d" % (total, seen))
                next_first[kind] = first + count
            elif kind == VALUES:
                at = c.pos
                idx = c.varint()  # `first`
                count = c.count(2, "value")
                for k in range(count):
                    at = c.pos
                    delta = c.varint()
                    if k and delta < 1:
                        raise SpecError(at, "VALUES delta 0 after the first entry")
                    idx += delta
                    if idx >= 1 << 32:
                        raise SpecError(at, "VALUES object index %d not below 2^32" % idx)
                    obj_ref(at, idx, "VALUES object")
                    if idx in snap.values:
                        raise SpecError(at, "second preview for object %d" % idx)
                    snap.values[idx] = c.bytes_()
            elif kind == WEAK:
                count = c.count(3, "weak link")
                ref = 0
                for _ in range(count):
                    at = c.pos
                    ref += unzigzag(c.varint())
                    if ref < 0 or ref >= 1 << 32:
                        raise SpecError(at, "weak reference index %d out of range" % ref)
                    obj_ref(at, ref, "weak reference")
                    link = [ref]
                    for what in ("referent", "callback"):
                        at = c.pos
                        v = c.varint()
                        if v:
                            obj_ref(at, v - 1, "weak " + what)
                        link.append(v - 1 if v else None)
                    snap.weak.append(tuple(link))
            elif kind == ROOTS:
                count = c.count(3, "root")
                for _ in range(count):
                    at = c.pos
                    obj = c.varint()
                    obj_ref(at, obj, "root object")
                    at = c.pos
                    rkind = c.varint()
                    str_ref(at, rkind, "root kind")
                    at = c.pos
                    rname = c.varint()
                    str_ref(at, rname, "root name")
                    snap.roots.append((obj, rkind, rname))
            elif kind == INDEX:
                at = c.pos
                count = c.varint()
                if count != len(records) - 1:
                    raise SpecError(at, "INDEX lists %d records, the file has %d before it"
                                    % (count, len(records) - 1))
                for r_kind, r_offset, r_start, r_end in records[:-1]:
                    at = c.pos
                    if c.u8() != r_kind | (PACKED if r_offset in packed else 0):
                        raise SpecError(at, "INDEX entry kind does not match the record at %d"
                                        % r_offset)
                    at = c.pos
                    if c.varint() != r_offset:
                        raise SpecError(at, "INDEX entry offset does not match the record at %d"
                                        % r_offset)
                    at = c.pos
                    if c.varint() != r_end + 4 - r_offset:
                        raise SpecError(at, "INDEX entry length does not match the record at %d"
                                        % r_offset)
                snap.records = [(k, o, e + 4 - o) for k, o, s, e in records]
            c.done()
        except SpecError as e:
            if rec_offset in packed:
                raise SpecError(rec_offset, e.message) from None
            raise

    # Ids resolved against the whole file (§3.1).
    limits = {"objects": len(snap.addrs), "strings": len(snap.strings), "types": len(snap.types)}
    for offset, value, table, what in deferred:
        if value >= limits[table]:
            raise SpecError(offset, "%s %d out of range (%d %s)" % (what, value, limits[table], table))
    # In a complete file the EDGES runs cover every object (§3.1).
    if next_first[EDGES] != len(snap.addrs):
        raise SpecError(records[-1][1], "EDGES runs cover %d of %d objects"
                        % (next_first[EDGES], len(snap.addrs)))
    snap.edge_start.append(n_edge_records)
    return snap


# --------------------------------------------------------------------------------------------
# Rendering as the JSON lines of `heapsnap export` (DESIGN.md "Interchange"; labels: FORMAT.md §4.6).


def text(b):
    """Strings are UTF-8 by convention, but any bytes are allowed (§1). README ("JSON-lines
    interchange") says how `heapsnap export` shows the others: each byte that is not part of a
    well-formed UTF-8 sequence as the lone surrogate U+DC80..U+DCFF, Python's surrogateescape."""
    return bytes(b).decode("utf-8", "surrogateescape")


def dumps(obj):
    """JSON with non-ASCII text as is, except lone surrogates, which only an escape can hold."""
    return re.sub("[\ud800-\udfff]", lambda m: "\\u%04x" % ord(m.group()),
                  json.dumps(obj, separators=(",", ":"), ensure_ascii=False))


PY_KEYWORDS = {"False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
               "continue", "def", "del", "elif", "else", "except", "finally", "for", "from",
               "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass",
               "raise", "return", "try", "while", "with", "yield"}


def builtin_type(snap, k):
    """The name of object k's type when its module is builtins or empty (§4.6), else None."""
    name_id, module_id = snap.types[snap.type_ids[k]][:2]
    return text(snap.strings[name_id]) if snap.strings[module_id] in (b"", b"builtins") else None


def whole_str(snap, k):
    """§4.6: the text of str k when its preview is all of it, else None."""
    if builtin_type(snap, k) != "str" or k not in snap.values:
        return None
    try:
        s = bytes(snap.values[k]).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\ufffd" in s or (len(s) == 101 and s.endswith("\u2026")):
        return None
    return s


def literal(snap, k, depth=0):
    """§4.6: object k as a Python literal, or None."""
    t, v = builtin_type(snap, k), snap.values.get(k)
    v = None if v is None else bytes(v).decode("utf-8", "replace")
    out = None
    if depth > 8:
        return None
    if t in ("tuple", "frozenset"):
        edges = range(snap.edge_start[k], snap.edge_start[k + 1])
        items = []
        for i, e in enumerate(edges):
            lab = snap.edge_label[e]
            placed = (lab in (("o", i), (FORM_INDEX, i))) if t == "tuple" else lab is None
            item = literal(snap, snap.edge_dst[e], depth + 1)
            if snap.edge_kind[e] != 0 or not placed or item is None:
                return None
            items.append(item)
        if t == "tuple":
            out = "(%s)" % (items[0] + "," if len(items) == 1 else ", ".join(items))
        else:
            out = "frozenset({%s})" % ", ".join(items) if items else "frozenset()"
    elif t == "str":
        s = whole_str(snap, k)
        out = None if s is None else repr(s)
    elif v is None:
        return None
    elif t == "float" and v in ("inf", "-inf"):
        out = "float('inf')" if v == "inf" else "-float('inf')"
    elif ((t == "int" and re.fullmatch(r"[-0-9]*[0-9][-0-9]*", v))
          or (t == "float" and re.fullmatch(r"[-+.e0-9]*[0-9][-+.e0-9]*", v))
          or (t == "bool" and v in ("True", "False")) or (t == "NoneType" and v == "None")
          or (t == "bytes" and len(v) >= 3 and v[0] == "b" and v[1] in "'\"" and v[-1] == v[1])):
        out = v
    return out if out is not None and len(out.encode("utf-8")) <= 1024 else None


def render_label(snap, src, i, label):
    if label is None:
        return None
    form, value = label
    if form == "o":
        return "[%d]" % i
    if form == FORM_INDEX:
        return "[%d]" % value
    if form == FORM_STRING:
        return text(snap.strings[value])
    anonymous = "<%s at 0x%x>" % (text(snap.strings[snap.types[snap.type_ids[value]][0]]),
                                  snap.addrs[value])
    if form == FORM_KEY:
        return "[%s]" % (literal(snap, value) or anonymous)
    name = whole_str(snap, value)
    if name is not None and name.isascii() and name.isidentifier() and name not in PY_KEYWORDS:
        return "." + name
    return ".__dict__[%s]" % repr(name) if name is not None else "." + anonymous


def render_jsonl(snap):
    out = []
    for key, value in snap.meta:
        out.append(dumps({"t": "meta", "key": text(key), "value": text(value)}))
    type_names = [text(snap.strings[t[0]]) for t in snap.types]
    addrs = snap.addrs
    for i, addr in enumerate(addrs):
        tid = snap.type_ids[i]
        size = snap.sizes[i]
        f = snap.flags[i]
        o = {"t": "object", "addr": addr, "type": type_names[tid],
             "size": snap.types[tid][2] if size is None else size,
             "refcnt": snap.refcnts[i], "gc": bool(f & 1)}
        # Not in DESIGN.md's interchange but in README's: `memory` when the snapshot has it (a
        # run without a tail: its size), `site_file` and `site_line` when the object has a site.
        if snap.has_memory:
            o["memory"] = o["size"] + snap.memory.get(i, 0)
        if i in snap.sites:
            o["site_file"] = text(snap.strings[snap.sites[i][0]])
            o["site_line"] = snap.sites[i][1]
        if f >> 5 <= 3:
            o["gen"] = f >> 5
        if f & 2:
            o["immortal"] = True
        if f & 0x1C:
            # Not in DESIGN.md's interchange: `heapsnap export` adds "flags" (bits 0-4 of the flags
            # byte) when bit 2, 3 or 4 is set, and `heapsnap convert` accepts it.
            o["flags"] = f & 0x1F
        if i in snap.values:
            o["value"] = text(snap.values[i])
        out.append(dumps(o))
    starts = snap.edge_start
    for src in range(len(addrs)):
        for i, e in enumerate(range(starts[src], starts[src + 1])):
            o = {"t": "edge", "src": addrs[src], "dst": addrs[snap.edge_dst[e]]}
            label = render_label(snap, src, i, snap.edge_label[e])
            if label is not None:
                o["label"] = label
            o["kind"] = EDGE_KIND_NAMES[snap.edge_kind[e]]
            out.append(dumps(o))
    for ref, referent, callback in snap.weak:
        out.append(dumps({"t": "weak", "ref": addrs[ref],
                          "referent": None if referent is None else addrs[referent],
                          "callback": None if callback is None else addrs[callback]}))
    for obj, rkind, rname in snap.roots:
        out.append(dumps({"t": "root", "addr": addrs[obj], "kind": text(snap.strings[rkind]),
                          "name": text(snap.strings[rname])}))
    return "".join(line + "\n" for line in out)


# --------------------------------------------------------------------------------------------
# A writer, also from FORMAT.md alone, for files `heapsnap convert` never makes: explicit INDEX,
# KEY and ATTR labels, type modules and objects, object flags, many small runs in any allowed
# order, forward ids, non-UTF-8 strings, padded varints, later minor versions.


def uv(n, pad=0):
    """varint of n, padded with pad extra bytes (a 10th byte may be 0x00, §1)."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            break
    pad = min(pad, 10 - len(out))
    if pad > 0:
        out[-1] |= 0x80
        out += b"\x80" * (pad - 1) + b"\x00"
    return bytes(out)


def bs(b):
    return uv(len(b)) + b


def record(kind, payload):
    rec = bytes([kind]) + struct.pack("<Q", len(payload)) + payload
    return rec + struct.pack("<I", crc32c(rec))


def build_file(sections, minor=0, major=MAJOR):
    """sections: (kind, payload) after which the INDEX and trailer are added; a kind with
    PACKED set is written as is, with a payload made by pack()."""
    out = bytearray(MAGIC + struct.pack("<HHI", major, minor, 0))
    index = []
    for kind, payload in sections:
        rec = record(kind, payload)
        index.append(bytes([kind]) + uv(len(out)) + uv(len(rec)))
        out += rec
    at = len(out)
    out += record(INDEX, uv(len(index)) + b"".join(index))
    out += struct.pack("<Q", at) + END_MARKER
    return bytes(out)


def random_file(rng):
    """A random file that FORMAT.md allows."""
    pad = (lambda: rng.choice([0, 0, 0, 0, 1, 3])) if rng.random() < 0.3 else (lambda: 0)
    pieces = [b"", b"str", b"int", b"dict", b"mod.Foo", b"builtins", b"caf\xc3\xa9", b"\xff\xfe",
              b"a\x00b", b"q\"'\\", b"tab\t\n", "☃🐍".encode(), b"e2:\xe2\x82", b"\xed\xa0\x80",
              b"x" * 100, b"users", b"42", b"b'\\x00'", b"<cell>", b".__dict__", b"\x7f\x1f"]
    n_str = rng.randint(3, 60)
    strs = [rng.choice(pieces) + (b"%d" % k if rng.random() < 0.5 else b"") for k in range(n_str)]
    strs[0], strs[1] = b"str", b""
    n_obj = rng.randint(1, 1500)
    n_types = rng.randint(1, 12)
    # FORMAT.md §4.3/§4.9: type names and modules, root kinds and names hold no NUL byte.
    c_strs = [i for i, b in enumerate(strs) if b"\0" not in b]
    types = [(0 if k == 0 else rng.choice(c_strs), rng.choice(c_strs), rng.randint(0, 300),
              rng.choice([0, 0, rng.randint(1, n_obj)]), rng.randint(0, 7)) for k in range(n_types)]
    addrs, a = [], rng.randint(0, 1 << 40)
    for _ in range(n_obj):
        addrs.append(a)
        a += rng.choice([1, 16, 16, 48, rng.randint(1, 1 << 20)])
    if rng.random() < 0.2:  # addresses up to 2^64 - 1
        shift = U64_MAX - addrs[-1]
        addrs = [x + shift for x in addrs]
    values = {}
    for i in rng.sample(range(n_obj), rng.randint(0, n_obj)):
        values[i] = rng.choice(pieces) + rng.choice([b"", b"%d" % i])
    objs = []
    for i in range(n_obj):
        objs.append((rng.randrange(n_types), rng.choice([None, None, rng.randint(0, 1 << 40)]),
                     rng.choice([0, 1, 2, rng.randint(0, U64_MAX)]),
                     rng.randint(0, 31) | rng.choice([0, 1, 2, 3, 7]) << 5))

    # heapsnap cuts labels at a NUL byte (see divergences()): labels here have none.
    label_strs = [i for i, b in enumerate(strs) if b"\0" not in b]
    label_objs = [i for i in range(n_obj) if b"\0" not in values.get(i, b"")
                  and b"\0" not in strs[types[objs[i][0]][0]]]

    # Chunks: an OBJECTS run and its EDGES run, runs of strings and types in between.
    cuts = sorted(rng.sample(range(1, n_obj), min(n_obj - 1, rng.randint(0, 6))))
    chunks = list(zip([0] + cuts, cuts + [n_obj]))
    obj_secs, edge_secs = [], []
    for lo, hi in chunks:
        p = uv(lo, pad()) + uv(hi - lo, pad()) + uv(addrs[lo], pad())
        for i in range(lo, hi):
            tid, size, refcnt, flags = objs[i]
            p += uv(0 if i == lo else addrs[i] - addrs[i - 1], pad())
            p += uv(tid << 1 | (size is not None), pad())
            p += (uv(size, pad()) if size is not None else b"") + uv(refcnt, pad()) + bytes([flags])
        obj_secs.append((OBJECTS, p))
        body, total = b"", 0
        for src in range(lo, hi):
            n = rng.choice([0, 0, 1, 2, 3, rng.randint(0, 12)])
            body += uv(n, pad())
            prev = src
            for i in range(n):
                dst = rng.choice([src, min(n_obj - 1, src + 1), max(0, src - 1), rng.randrange(n_obj)])
                ekind = rng.choice([0, 0, 0, 1, 2])
                lab = rng.choice([None, "o", FORM_INDEX, FORM_STRING, FORM_KEY, FORM_KEY, FORM_ATTR])
                bits = 0 if lab is None else 1 if lab == "o" else 2
                body += uv(zigzag(dst - prev) << 3 | (4 if ekind else 0) | bits, pad())
                if ekind:
                    body += bytes([ekind])
                if bits == 2 and lab in (FORM_KEY, FORM_ATTR) and not label_objs:
                    lab = FORM_INDEX
                if bits == 2:
                    if lab == FORM_INDEX:
                        value = rng.choice([0, i, 7, 0xFFFFFFFF])
                    elif lab == FORM_STRING:
                        value = rng.choice(label_strs)
                    else:
                        value = rng.choice(label_objs)
                    body += uv(value << 3 | lab, pad())
                prev = dst
            total += n
        edge_secs.append((EDGES, uv(lo, pad()) + uv(hi - lo, pad()) + uv(total, pad()) + body))

    def split_runs(kind, items, enc):
        cut = sorted(rng.sample(range(1, len(items)), min(len(items) - 1, rng.randint(0, 3))))
        out = []
        for lo, hi in zip([0] + cut, cut + [len(items)]):
            out.append((kind, uv(lo, pad()) + uv(hi - lo, pad()) + b"".join(enc(x) for x in items[lo:hi])))
        return out

    str_secs = split_runs(STRINGS, strs, bs)
    type_secs = split_runs(TYPES, types, lambda t: b"".join(uv(x, pad()) for x in t))
    others = []
    for _ in range(rng.randint(0, 3)):
        pairs = [(rng.choice(pieces), rng.choice(pieces)) for _ in range(rng.randint(0, 4))]
        others.append((META, uv(len(pairs)) + b"".join(bs(k) + bs(v) for k, v in pairs)))
    with_values = sorted(values)
    rng.shuffle(with_values)
    groups = [sorted(with_values[k::3]) for k in range(3)]
    for g in groups:
        if g:
            first = rng.randint(0, g[0])
            p, prev = uv(first) + uv(len(g)), first
            for i in g:
                p += uv(i - prev, pad()) + bs(values[i])
                prev = i
            others.append((VALUES, p))
    for _ in range(rng.randint(0, 2)):
        links = [(rng.randrange(n_obj), rng.choice([None, rng.randrange(n_obj)]),
                  rng.choice([None, rng.randrange(n_obj)])) for _ in range(rng.randint(0, 20))]
        p, prev = uv(len(links)), 0
        for ref, referent, callback in links:
            p += uv(zigzag(ref - prev), pad()) + uv(0 if referent is None else referent + 1)
            p += uv(0 if callback is None else callback + 1)
            prev = ref
        others.append((WEAK, p))
        roots = [(rng.randrange(n_obj), rng.choice(c_strs), rng.choice(c_strs))
                 for _ in range(rng.randint(0, 5))]
        others.append((ROOTS, uv(len(roots)) + b"".join(uv(x) for r in roots for x in r)))

    # Any order that keeps each kind's runs in order and each EDGES run after its OBJECTS run,
    # before the next OBJECTS run (§3.1: the runs pair one to one).
    queues = [str_secs, type_secs, others]
    pairs = [[s, e] for s, e in zip(obj_secs, edge_secs)]
    sections, pending_edges = [], []
    while any(queues) or pairs or pending_edges:
        choices = [q for q in queues if q]
        if pairs and not pending_edges:
            choices.append("objects")
        if pending_edges:
            choices.append("edges")
        q = rng.choice(choices)
        if q == "objects":
            o, e = pairs.pop(0)
            sections.append(o)
            pending_edges.append(e)
        elif q == "edges":
            sections.append(pending_edges.pop(0))
        else:
            sections.append(q.pop(0))
    # §2.4: in a version 2 file any record but the HEADER and the INDEX may be packed.
    major = rng.choice([1, 2])
    if major == 2 and rng.random() < 0.6:
        sections = [(k | PACKED, pack(p)) if rng.random() < 0.5 else (k, p) for k, p in sections]
    minor = rng.choice([0, 0, 1, 7])
    header = (bs(b"spec-test writer") + bs(rng.choice(pieces)) + bs(rng.choice(pieces)) + uv(8)
              + uv(rng.randint(0, 0xFFFFFFFF)) + uv(rng.randint(0, U64_MAX)) + uv(rng.randint(0, 5))
              + (b"\x05later fields" if minor or rng.random() < 0.2 else b""))
    return build_file([(HEADER, header)] + sections, minor, major)


def small_file(edge_body=None, extra=(), objects=None, values=None, header_extra=b"", method=5,
               packed=(), major=MAJOR):
    """Two objects of one type, the edge 0 -> 1 unless edge_body (after the EDGES run's first
    and count) is given; extra sections go before the INDEX; packed: the kinds whose payloads
    are packed (§2.4), or a function of (kind, payload) giving the packed record's payload."""
    objects = objects if objects is not None else [(0, b"\x00\x00\x01\xe0"), (1, b"\x10\x00\x01\xe0")]
    body = uv(0) + uv(len(objects)) + uv(4096) + b"".join(r for i, r in objects)
    if edge_body is None:
        edge_body = uv(1) + b"\x01\x10" + b"\x00"
    secs = [(HEADER, bs(b"t") + bs(b"") + bs(b"") + uv(8) + uv(0) + uv(0) + uv(method) + header_extra),
            (STRINGS, uv(0) + uv(2) + bs(b"x") + bs(b"")),
            (TYPES, uv(0) + uv(1) + uv(0) + uv(1) + uv(8) + uv(0) + uv(0)),
            (OBJECTS, body), (EDGES, uv(0) + uv(len(objects)) + edge_body)]
    if values is not None:
        secs.append((VALUES, values))
    secs += list(extra)
    if callable(packed):
        secs = [(k | PACKED, packed(k, p)) if k == OBJECTS else (k, p) for k, p in secs]
    else:
        secs = [(k | PACKED, pack(p)) if k in packed else (k, p) for k, p in secs]
    return build_file(secs, major=major)


def invalid_files():
    """(name, bytes): files that break one rule of FORMAT.md each."""
    good = small_file()
    cases = [
        ("bad magic", b"HSNP\n\x1a\n\x00" + good[8:]),
        ("major version 3", good[:8] + b"\x03" + good[9:]),
        ("major version 0", good[:8] + b"\x00" + good[9:]),
        ("file flags 1", good[:12] + b"\x01" + good[13:]),
        ("short file", good[:10]),
        ("no trailer", good[:-16]),
        ("bad end marker", good[:-1] + b"X"),
        ("stray byte after the trailer", good + b"\x00"),
        ("trailer names the wrong offset", good[:-16] + struct.pack("<Q", 16) + END_MARKER),
        ("section runs past the end", good[:40]),
        ("pointer size 17", build_file([(HEADER, bs(b"") * 3 + uv(17) + uv(0) + uv(0) + uv(0))])),
        ("pid 2^32", build_file([(HEADER, bs(b"") * 3 + uv(8) + uv(1 << 32) + uv(0) + uv(0))])),
        ("first record not HEADER", build_file([(STRINGS, uv(0) + uv(0))])),
        ("second HEADER", small_file(extra=[(HEADER, bs(b"") * 3 + b"\x08\x00\x00\x00")])),
        ("unknown section kind 0", small_file(extra=[(0, b"")])),
        ("unknown section kind 11", small_file(extra=[(11, b"")])),
        ("INDEX before the end", small_file(extra=[(INDEX, b"\x00")])),
        ("generation code 4", small_file(objects=[(0, b"\x00\x00\x01\x80"), (1, b"\x10\x00\x01\xe0")])),
        ("first address delta not 0", small_file(objects=[(0, b"\x01\x00\x01\xe0"), (1, b"\x10\x00\x01\xe0")])),
        ("address delta 0", small_file(objects=[(0, b"\x00\x00\x01\xe0"), (1, b"\x00\x00\x01\xe0")])),
        ("type id out of range", small_file(objects=[(0, b"\x00\x00\x01\xe0"), (1, b"\x10\x04\x01\xe0")])),
        ("edge kind byte 0", small_file(uv(1) + b"\x01\x14\x00\x00")),
        ("edge kind byte 3", small_file(uv(1) + b"\x01\x14\x03\x00")),
        ("label bits 3", small_file(uv(1) + b"\x01\x13\x00")),
        ("label form 0", small_file(uv(1) + b"\x01\x12" + uv(1 << 3 | 0) + b"\x00")),
        ("label form 1", small_file(uv(1) + b"\x01\x12" + uv(1 << 3 | 1) + b"\x00")),
        ("label form 6", small_file(uv(1) + b"\x01\x12" + uv(1 << 3 | 6) + b"\x00")),
        ("INDEX label 2^32", small_file(uv(1) + b"\x01\x12" + uv((1 << 32) << 3 | 2) + b"\x00")),
        ("STRING label out of range", small_file(uv(1) + b"\x01\x12" + uv(2 << 3 | 3) + b"\x00")),
        ("KEY label out of range", small_file(uv(1) + b"\x01\x12" + uv(2 << 3 | 4) + b"\x00")),
        ("edge to object 2 of 2", small_file(uv(1) + b"\x01" + uv(zigzag(2) << 3) + b"\x00")),
        ("edge to object -1", small_file(uv(1) + b"\x01" + uv(zigzag(-1) << 3) + b"\x00")),
        ("EDGES total too high", small_file(uv(2) + b"\x01\x10\x00")),
        ("EDGES total too low", small_file(uv(0) + b"\x01\x10\x00")),
        ("varint of 11 bytes", small_file(uv(1) + b"\x81" + b"\x80" * 9 + b"\x00\x10\x00")),
        ("varint with a 10th byte 0x02", small_file(uv(1) + b"\x81" + b"\x80" * 8 + b"\x02\x10\x00")),
        ("stray byte in a payload", small_file(uv(1) + b"\x01\x10\x00\x00")),
        ("VALUES delta 0 after the first", small_file(values=uv(0) + uv(2) + b"\x00\x01a\x00\x01b")),
        ("VALUES object out of range", small_file(values=uv(0) + uv(1) + b"\x02\x01a")),
        ("VALUES count does not fit", small_file(values=uv(0) + uv(100) + b"\x00\x01a")),
        ("weak ref out of range", small_file(extra=[(WEAK, uv(1) + uv(zigzag(2)) + b"\x00\x00")])),
        ("weak referent out of range", small_file(extra=[(WEAK, uv(1) + b"\x00\x03\x00")])),
        ("root object out of range", small_file(extra=[(ROOTS, uv(1) + b"\x02\x00\x00")])),
        ("root name out of range", small_file(extra=[(ROOTS, uv(1) + b"\x00\x00\x02")])),
        ("META count does not fit", small_file(extra=[(META, uv(5) + bs(b"a") + bs(b"b"))])),
        ("STRINGS runs not contiguous", small_file(extra=[(STRINGS, uv(3) + uv(1) + bs(b"y"))])),
        ("EDGES run before its OBJECTS run",
         build_file([(HEADER, bs(b"") * 3 + b"\x08\x00\x00\x00"), (EDGES, uv(0) + uv(1) + uv(0) + b"\x00"),
                     (TYPES, uv(0) + uv(1) + b"\x00\x00\x08\x00\x00"), (STRINGS, uv(0) + uv(1) + bs(b"x")),
                     (OBJECTS, uv(0) + uv(1) + uv(16) + b"\x00\x00\x01\xe0")])),
        ("OBJECTS run without its EDGES run",
         small_file(extra=[(OBJECTS, uv(2) + uv(1) + uv(8192) + b"\x00\x00\x01\xe0")])),
        ("OBJECTS run not above the previous one",
         small_file(extra=[(OBJECTS, uv(2) + uv(1) + uv(4112) + b"\x00\x00\x01\xe0"),
                           (EDGES, uv(2) + uv(1) + uv(0) + b"\x00")])),
    ]
    objects = uv(0) + uv(2) + uv(4096) + b"\x00\x00\x01\xe0\x10\x00\x01\xe0"
    frame = pack(objects)[1:]  # the length of 12 bytes takes one
    cases += [
        ("packed HEADER", small_file(packed=(HEADER,))),
        ("packed record in a version 1 file", small_file(packed=(OBJECTS,), major=1)),
        ("packed length above 2^24", small_file(packed=lambda k, p: uv(PACK_MAX + 1) + frame)),
        ("packed frame declares 11 bytes of 12", small_file(packed=lambda k, p: uv(11) + frame)),
        ("packed frame and a stray byte", small_file(packed=lambda k, p: pack(p) + b"\x00")),
        ("packed frame cut", small_file(packed=lambda k, p: pack(p)[:-2])),
        ("packed payload with a stray byte", small_file(packed=lambda k, p: pack(p + b"\x00"))),
    ]
    flipped = bytearray(good)
    flipped[60] ^= 0x01
    cases.append(("one bit flipped", bytes(flipped)))
    return cases


def divergences():
    """(name, FORMAT.md's rule, bytes): files FORMAT.md forbids, or says nothing about, where
    heapsnap's reader was seen to decide otherwise. Reported, not failed."""
    one = lambda: (uv(0) + uv(1) + uv(4096) + b"\x00\x00\x01\xe0")
    hdr = (HEADER, bs(b"") * 3 + b"\x08\x00\x00\x05")
    st = [(STRINGS, uv(0) + uv(2) + bs(b"x") + bs(b"")), (TYPES, uv(0) + uv(1) + b"\x00\x01\x08\x00\x00")]
    return [
        ("EDGES runs split an OBJECTS run",
         "§3.1: an EDGES run covers the same objects as an OBJECTS run that precedes it",
         build_file([hdr] + st + [(OBJECTS, uv(0) + uv(2) + uv(4096) + b"\x00\x00\x01\xe0\x10\x00\x01\xe0"),
                                  (EDGES, uv(0) + uv(1) + uv(0) + b"\x00"),
                                  (EDGES, uv(1) + uv(1) + uv(0) + b"\x00")]), False),
        ("one EDGES run over two OBJECTS runs",
         "§3.1: an EDGES run covers the same objects as an OBJECTS run that precedes it",
         build_file([hdr] + st + [(OBJECTS, one()), (OBJECTS, uv(1) + uv(1) + uv(8192) + b"\x00\x00\x01\xe0"),
                                  (EDGES, uv(0) + uv(2) + uv(0) + b"\x00\x00")]), False),
        ("two previews of one object",
         "§4.7: at most one preview per object",
         small_file(extra=[(VALUES, uv(0) + uv(1) + b"\x01\x01a"), (VALUES, uv(0) + uv(1) + b"\x01\x01b")]),
         False),
        ("a NUL byte in a STRING label",
         "§1: strings are any bytes; §4.6: a STRING label is the string, as is",
         small_file(uv(1) + b"\x01\x12" + uv(2 << 3 | 3) + b"\x00",
                    extra=[(STRINGS, uv(2) + uv(1) + bs(b"a\x00b"))]), True),
        ("a NUL byte in a KEY label's preview",
         "§1: strings are any bytes; §4.6: a KEY label is ['preview'] or [preview]",
         small_file(uv(1) + b"\x01\x12" + uv(1 << 3 | 4) + b"\x00",
                    values=uv(1) + uv(1) + b"\x00" + bs(b"k\x00ey")), True),
        ("a NUL byte in a type name in an ATTR label",
         "§1: strings are any bytes; §4.6: an ATTR label without a preview is .<TYPE at 0xADDR>",
         build_file([hdr, (STRINGS, uv(0) + uv(2) + bs(b"T\x00ype") + bs(b"")), st[1],
                     (OBJECTS, one()), (EDGES, uv(0) + uv(1) + uv(1) + b"\x01\x02" + uv(0 << 3 | 5))]),
         True),
        ("HEADER method 6", "§4.1 lists methods 0-5 but does not say a reader rejects others",
         small_file(method=6), True),
        ("type flags bit 3", "§4.3: other bits 0, but §5 does not list it among a reader's checks",
         build_file([hdr] + [st[0], (TYPES, uv(0) + uv(1) + b"\x00\x01\x08\x00\x08"),
                             (OBJECTS, one()), (EDGES, uv(0) + uv(1) + uv(0) + b"\x00")]), True),
    ]


# --------------------------------------------------------------------------------------------
# The test.

failures = 0


def check(cond, what):
    global failures
    if cond:
        print("ok:", what)
    else:
        failures += 1
        print("FAIL:", what)
    sys.stdout.flush()


def first_difference(a, b):
    la, lb = a.splitlines(), b.splitlines()
    for n, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return "line %d: reader %r, binary %r" % (n + 1, x, y)
    if len(la) != len(lb):
        return "reader %d lines, binary %d lines" % (len(la), len(lb))
    return "no difference in lines (line endings?)"


def decode(path):
    with open(path, "rb") as f:
        return read_hsnap(f.read())


def export(heapsnap, path):
    p = subprocess.run([heapsnap, "export", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8", "replace")


def compare_with_binary(heapsnap, path, name):
    try:
        mine = render_jsonl(decode(path))
    except SpecError as e:
        check(False, "%s decodes: %s" % (name, e))
        return None
    code, theirs, err = export(heapsnap, path)
    check(code == 0, "heapsnap export %s exits 0 %s" % (name, err.strip()))
    check(mine == theirs, "%s: reader's rendering equals heapsnap export byte for byte%s"
          % (name, "" if mine == theirs else " (" + first_difference(mine, theirs) + ")"))
    return mine


def random_graph(rng, n_objects, edges_per_object):
    """JSON lines for a random graph: objects with values (unicode, escapes), memory and
    allocation sites, edges with labels of every form `convert` takes, weak links (live, dead,
    with callbacks), roots and meta."""
    addrs = sorted(rng.sample(range(16, 1 << 44, 16), n_objects))
    types = ["dict", "list", "tuple", "str", "int", "float", "User", "café", "型", "q\"t", "a\\b"]
    values = ["", "plain", "users", "tab\tnl\nq\"\\", "ünïcødé ☃ 🐍", "x" * 100, "3", "-12",
              "3.25", "None", "True", "b'\\x00\\xff'", "日本語のテキスト", "\u2028\u2029", "ctl\x01\x1f\x7f"]
    site_files = ["app.py", "/srv/app/models.py", "<frozen importlib._bootstrap>", "файл.py",
                  "<string>", "a:b.py", "q\"t\\.py"]
    lines = [dumps({"t": "meta", "key": "runtime", "value": "cpython 3.12.1"}),
             dumps({"t": "meta", "key": "spec-test", "value": "größe ✓"})]
    for a in addrs:
        gc = rng.random() < 0.6
        o = {"t": "object", "addr": a, "type": rng.choice(types),
             "size": rng.choice([16, 56, 56, 72, rng.randint(0, 1 << 40)]),
             "refcnt": rng.choice([0, 1, 1, 2, 3, rng.randint(0, 1 << 33)]), "gc": gc}
        if gc and rng.random() < 0.9:
            o["gen"] = rng.randint(0, 3)
        if rng.random() < 0.02:
            o["immortal"] = True
        if rng.random() < 0.05:
            o["flags"] = rng.choice([4, 8, 16, 12, 28])  # see render_jsonl
        if rng.random() < 0.3:
            o["value"] = rng.choice(values)
        # memory (every object: a run has a tail for all or none) and sites (§4.5 tails)
        o["memory"] = max(0, o["size"] + rng.choice([0, 8, 16, 24, -8, rng.randint(-(1 << 31),
                                                                                  (1 << 31) - 1)]))
        if rng.random() < 0.5:
            o["site_file"] = rng.choice(site_files)
            o["site_line"] = rng.choice([0, 1, 17, 4321, (1 << 32) - 1])
        lines.append(dumps(o))
    labels = [None, "[0]", "[5]", "[123456]", ".attr", ".__dict__", "['k']", "['ключ']",
              "[b'k']", "[3]", "", "<cell>", ".é", "['a\"b']"]
    n = len(addrs)
    for k, a in enumerate(addrs):
        for i in range(rng.randint(0, 2 * edges_per_object)):
            r = rng.random()
            if r < 0.5:  # near neighbours: the one-byte edges of §6
                dst = addrs[max(0, min(n - 1, k + rng.randint(-3, 3)))]
            else:
                dst = rng.choice(addrs)
            e = {"t": "edge", "src": a, "dst": dst}
            r = rng.random()
            if r < 0.4:
                e["label"] = "[%d]" % i  # ordinal
            else:
                lab = rng.choice(labels)
                if lab is not None:
                    e["label"] = lab
            r = rng.random()
            if r < 0.1:
                e["kind"] = "owned"
            elif r < 0.13:
                e["kind"] = "conservative"
            elif r < 0.5:
                e["kind"] = "traverse"
            lines.append(dumps(e))
    for a in rng.sample(addrs, min(n, 300)):
        lines.append(dumps({"t": "weak", "ref": a,
                            "referent": rng.choice([None, rng.choice(addrs)]),
                            "callback": rng.choice([None, None, rng.choice(addrs)])}))
    for a in rng.sample(addrs, min(n, 50)):
        lines.append(dumps({"t": "root", "addr": a, "kind": rng.choice(["module", "frame", "thread"]),
                            "name": "sys.modules['m%x']" % a}))
    return "".join(line + "\n" for line in lines)


def expect_damage(path, name, offset, words):
    try:
        decode(path)
    except SpecError as e:
        check(e.offset == offset and all(w in e.message.lower() for w in words),
              "%s rejected at offset %d (%s)" % (name, e.offset, e))
        return
    except Exception as e:  # any exception counts, but it must carry the offset
        check(False, "%s rejected without a SpecError: %r" % (name, e))
        return
    check(False, "%s was accepted" % name)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: test_format_spec.py HEAPSNAP FIXTURES_DIR\n")
        return 2
    heapsnap, fixtures = argv[1], argv[2]
    tmp = tempfile.mkdtemp(prefix="hs-format-spec-")

    check(crc32c(b"123456789") == 0xE3069283, "CRC-32C of '123456789' is e3069283")

    # 1. The golden fixture.
    small = os.path.join(fixtures, "small.hsnap")
    mine = compare_with_binary(heapsnap, small, "small.hsnap")
    if mine is not None:
        with open(os.path.join(fixtures, "small.export.jsonl"), encoding="utf-8") as f:
            golden = f.read()
        check(mine == golden, "small.hsnap: reader's rendering equals small.export.jsonl%s"
              % ("" if mine == golden else " (" + first_difference(mine, golden) + ")"))

    # 2. A large random graph: several chunks (> 65536 objects), forward references, all labels.
    rng = random.Random(20240607)
    src = os.path.join(tmp, "G.jsonl")
    with open(src, "w", encoding="utf-8") as f:
        f.write(random_graph(rng, 150000, 3))
    snap_path = os.path.join(tmp, "G.hsnap")
    p = subprocess.run([heapsnap, "convert", src, "-o", snap_path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "heapsnap convert G.jsonl exits 0 %s"
          % p.stderr.decode("utf-8", "replace").strip())
    if p.returncode == 0:
        mine = compare_with_binary(heapsnap, snap_path, "G.hsnap (150000 objects)")
        snap = decode(snap_path)
        runs = sum(1 for k, o, n in snap.records if k == OBJECTS)
        check(runs >= 3, "G.hsnap has %d OBJECTS runs (chunks of at most 65536 objects)" % runs)
        with_site = len(snap.sites)
        check(snap.has_memory and 0.4 * len(snap.addrs) < with_site < 0.6 * len(snap.addrs),
              "G.hsnap: every object's memory and %d sites decoded from the tails" % with_site)

    # 3. Damaged fixtures are rejected at the right offset.
    expect_damage(os.path.join(fixtures, "truncated.hsnap"), "truncated.hsnap", 277,
                  ["past the end"])
    expect_damage(os.path.join(fixtures, "bitflip.hsnap"), "bitflip.hsnap", 338,
                  ["checksum"])

    # 4. Files `heapsnap convert` does not make, written from FORMAT.md: every label form, type
    # modules and objects, object flags, many runs in any allowed order, forward ids, non-UTF-8
    # strings, padded varints, later minor versions. The reader's rendering must equal the binary's.
    rng = random.Random(77)
    same = 0
    for k in range(40):
        data = random_file(rng)
        path = os.path.join(tmp, "crafted%d.hsnap" % k)
        with open(path, "wb") as f:
            f.write(data)
        try:
            mine = render_jsonl(read_hsnap(data))
        except SpecError as e:
            check(False, "crafted file %d decodes: %s" % (k, e))
            continue
        code, theirs, err = export(heapsnap, path)
        if code == 0 and mine == theirs:
            same += 1
        else:
            check(False, "crafted file %d (%s): %s" % (k, path, err.strip() if code else
                                                       first_difference(mine, theirs)))
    check(same == 40, "%d of 40 crafted files render as heapsnap export does" % same)

    # 5. Files that break one rule each: both readers reject them.
    for name, data in invalid_files():
        path = os.path.join(tmp, "invalid.hsnap")
        with open(path, "wb") as f:
            f.write(data)
        try:
            read_hsnap(data)
            mine = "accepted"
        except SpecError as e:
            mine = str(e)
        p = subprocess.run([heapsnap, "check", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        theirs = (p.stderr.decode("utf-8", "replace").splitlines() or [""])[0].replace(path + ": ", "")
        check(mine != "accepted" and p.returncode == 1,
              "%s: rejected (reader: %s; heapsnap: %s)" % (name, mine, theirs))

    # Where FORMAT.md and heapsnap's reader were seen to differ, or FORMAT.md is silent: reported.
    for name, rule, data, _ in divergences():
        path = os.path.join(tmp, "divergence.hsnap")
        with open(path, "wb") as f:
            f.write(data)
        p = subprocess.run([heapsnap, "check", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        binary_accepts = p.returncode == 0
        try:
            read_hsnap(data)
            reader_accepts = True
        except SpecError:
            reader_accepts = False
        if binary_accepts and reader_accepts:
            mine, theirs = render_jsonl(read_hsnap(data)), export(heapsnap, path)[1]
            if mine != theirs:
                print("gap: %s: %s; heapsnap export differs from this reader: %s"
                      % (name, rule, first_difference(mine, theirs)))
        elif binary_accepts != reader_accepts:
            print("gap: %s: %s; this reader %s it, heapsnap %s it" % (
                name, rule, "accepts" if reader_accepts else "rejects",
                "accepts" if binary_accepts else "rejects (%s)"
                % (p.stderr.decode("utf-8", "replace").splitlines() or [""])[0].replace(path + ": ", "")))

    print("%d failed" % failures)
    if not failures:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
