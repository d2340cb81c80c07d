"""gen_cpython_table.py — writes tests/unit/cpython_table.h, the expected answers test_cpython.c
checks capture/cpython/ against, taken from real interpreters: each value's repr() (the previews),
sys.getsizeof of ints and strs on every minor version, which version-dependent fields each
version's objects have (the label table), and the type flags (__flags__) of types that have and
lack each flag (the flag table).  The oracle is Python; nothing here computes what the
C code computes.

usage: python3 tests/unit/gen_cpython_table.py PYTHON3.8 ... PYTHON3.13 > tests/unit/cpython_table.h
       (e.g. $(pyenv root)/versions/3.{8,9,10,11,12,13}.*/bin/python3)
"""
import json
import struct
import subprocess
import sys

CHARS = 100  # the captures' preview length (HS_CP_PREVIEW_CHARS)

FLOATS = [1e15, 1e16, 1e15 + 1, 1234567890123456.0, 9999999999999998.0, 1e17, 1e22, -1e15,
          0.0, -0.0, float("nan"), float("inf"), float("-inf"), 1e-5, 1e-4, 0.0001234, 0.1, 0.5,
          1 / 3, 2.5, -2.25, 100.0, 123456789012345.6, 0.30000000000000004, 5e-324,
          1.7976931348623157e308, 2.2250738585072014e-308, 1e-7, 3.141592653589793, 1e300 * 10]
INTS = [0, 1, -1, 7, -7, 2 ** 30 - 1, 2 ** 30, -2 ** 30, 2 ** 60 - 1, 2 ** 60, 2 ** 63 - 1,
        -2 ** 63, 2 ** 63, -2 ** 63 - 1, 2 ** 64, 2 ** 80, -2 ** 80, 2 ** 90 - 1, 10 ** 100,
        12345678901234567890, -(10 ** 18)]
STRS = ["", "abc", "h\u00e9llo", "\u65e5\u672c\u8a9e", "\U0001f600 emoji", "\ud800",
        "a\udfffb", "x" * 150, "x" * 100, "x" * 101, "\u00e9" * 150, "\u65e5" * 101,
        "\U0001f600" * 100, "\U0001f600" * 101, "\x00nul\x7f", "\ud83d\ude00 pair of surrogates",
        "\u00ff" * 3 + "\u0100", "tab\tnew\nline"]
BYTES = [bytes(range(256)), bytes(range(100)), bytes(range(156, 256)), b"", b"'", b'"', b"'\"",
         b"\\", b"x" * 101] + [bytes([i]) for i in range(256)]

# Per interpreter: sys.getsizeof of every int and str, the version-dependent fields, and for
# lists, sets and bytearrays of several sizes __sizeof__ with the fields it reads (read with
# ctypes at their offsets: PyListObject.allocated, PySetObject.mask and table, PyByteArrayObject
# .ob_alloc, the same from 3.8 to 3.13).
PROBE = r'''
import ctypes, json, sys
ints, strs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def word(o, off):
    return ctypes.c_ssize_t.from_address(id(o) + off).value
containers = []
for n in (0, 1, 5, 17, 1000):
    lst = []
    for i in range(n):
        lst.append(i)
    containers.append(["list", list.__basicsize__, word(lst, 32), 0, lst.__sizeof__()])
    st = set(range(n))
    containers.append(["set", set.__basicsize__, word(st, 32),
                       int(word(st, 40) == id(st) + 64), st.__sizeof__()])
    ba = bytearray(b"x" * n)
    containers.append(["bytearray", bytearray.__basicsize__, word(ba, 24), 0, ba.__sizeof__()])
def f(x=1): return x
code = f.__code__
def frame_locals():
    x = 1
    return type(sys._getframe().f_locals).__name__
fields = {
    "HS_CP_CO_QUALNAME": hasattr(code, "co_qualname"),
    "HS_CP_CO_EXCEPTIONTABLE": hasattr(code, "co_exceptiontable"),
    "HS_CP_CO_LINETABLE": hasattr(code, "co_linetable"),
    # co_lnotab is the code object's own field until co_linetable replaces it (a property after)
    "HS_CP_CO_LNOTAB": not hasattr(code, "co_linetable"),
    "HS_CP_BUILTINS": hasattr(f, "__builtins__"),
    "HS_CP_TYPE_PARAMS": hasattr(f, "__type_params__"),
    "HS_CP_NOTES": hasattr(BaseException, "add_note"),
    # 3.13's frames keep what f_locals adds beyond the fast locals apart (PEP 667)
    "HS_CP_F_EXTRA_LOCALS": frame_locals() == "FrameLocalsProxy",
    "HS_CP_F_LOCALS_CACHE": frame_locals() == "FrameLocalsProxy",
}
# Each type flag: the __flags__ of a type that has it on the versions with the flag, and of one
# that never has it (none for READY: every type is ready).  A plain class keeps its dict, weak
# references and attribute values where the three newest flags say; a class with __slots__ = ()
# has none of them.
class Plain: pass
class Slotted: __slots__ = ()
flags = {name: [yes.__flags__, no.__flags__ if no else 0] for name, yes, no in (
    ("INLINE_VALUES", Plain, Slotted), ("MANAGED_WEAKREF", Plain, Slotted),
    ("MANAGED_DICT", Plain, Slotted), ("HEAPTYPE", Plain, int), ("READY", int, None),
    ("HAVE_GC", list, int), ("LIST_SUBCLASS", list, tuple), ("DICT_SUBCLASS", dict, set),
    ("TYPE_SUBCLASS", type, object))}
print(json.dumps({"minor": sys.version_info[1], "flags": flags,
                  "ints": [sys.getsizeof(int(v)) for v in ints],
                  "strs": [sys.getsizeof("".join(map(chr, cps))) for cps in strs],
                  "fields": fields, "containers": containers}))
'''


def c_str(b):
    """A C string literal of the bytes b."""
    return '"' + "".join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\?' else "\\%03o" % c
                         for c in b) + '"'


def preview_str(s):
    """What a capture keeps of s: its first CHARS characters, surrogates as U+FFFD, then U+2026."""
    t = "".join("\ufffd" if 0xd800 <= ord(c) < 0xe000 else c for c in s[:CHARS])
    return (t + ("\u2026" if len(s) > CHARS else "")).encode()


def preview_int(v):
    if -2 ** 63 <= v < 2 ** 63:
        return repr(v)
    return "<int of %d bits>" % abs(v).bit_length()


def digits(v):
    a, d = abs(v), []
    while a:
        d.append(a & (2 ** 30 - 1))
        a >>= 30
    return d


def main():
    pythons = sys.argv[1:]
    runs = []
    for py in pythons:
        out = subprocess.run([py, "-c", PROBE, json.dumps(INTS),
                              json.dumps([[ord(c) for c in s] for s in STRS])],
                             capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out))
    runs.sort(key=lambda r: r["minor"])
    o = ["/* Generated by tests/unit/gen_cpython_table.py from "
         + ", ".join("3.%d" % r["minor"] for r in runs) + ": do not edit. */",
         "static const struct float_case { uint64_t bits; const char *repr; } float_cases[] = {"]
    for v in FLOATS:
        o.append("    {0x%016xull, %s}," % (struct.unpack("<Q", struct.pack("<d", v))[0],
                                             c_str(repr(v).encode())))
    o.append("};")
    o.append("static const int minors[] = {%s};" % ", ".join(str(r["minor"]) for r in runs))
    o.append("static const struct int_case { int sign; uint64_t ndigits; uint32_t low[3], top; "
             "const char *preview; uint64_t size[%d]; } int_cases[] = {" % len(runs))
    for i, v in enumerate(INTS):
        d = digits(v)
        low = (d + [0, 0, 0])[:3]
        o.append("    {%d, %d, {%s}, %du, %s, {%s}}," % (
            (v > 0) - (v < 0), len(d), ", ".join("%du" % x for x in low), d[-1] if d else 0,
            c_str(preview_int(v).encode()), ", ".join(str(r["ints"][i]) for r in runs)))
    o.append("};")
    o.append("static const uint32_t str_units[] = {")
    at = []
    for s in STRS:
        at.append(sum(len(x) for x in STRS[:len(at)]))
        o.append("    " + ", ".join("0x%x" % ord(c) for c in s) + ("," if s else ""))
    o.append("    0};")
    o.append("static const struct str_case { size_t at, len; const char *text; size_t text_len; "
             "uint64_t size[%d]; } str_cases[] = {" % len(runs))
    for i, s in enumerate(STRS):
        p = preview_str(s)
        o.append("    {%d, %d, %s, %d, {%s}}," % (at[i], len(s), c_str(p), len(p),
                                                  ", ".join(str(r["strs"][i]) for r in runs)))
    o.append("};")
    o.append("static const struct bytes_case { const char *b; size_t n; const char *repr; } "
             "bytes_cases[] = {")
    for b in BYTES:
        r = repr(b[:CHARS]).encode() + ("\u2026".encode() if len(b) > CHARS else b"")
        o.append("    {%s, %d, %s}," % (c_str(b), len(b), c_str(r)))
    o.append("};")
    o.append("static const struct container_case { int minor; const char *type; uint64_t "
             "basicsize, field; bool small_table; uint64_t size; } container_cases[] = {")
    for r in runs:
        for t, basic, field, small, size in r["containers"]:
            o.append('    {%d, "%s", %d, %d, %s, %d},' % (r["minor"], t, basic, field,
                                                          "true" if small else "false", size))
    o.append("};")
    o.append("static const struct field_case { int label; bool present[%d]; } field_cases[] = {"
             % len(runs))
    for name in runs[0]["fields"]:
        o.append("    {%s, {%s}}," % (name, ", ".join("true" if r["fields"][name] else "false"
                                                      for r in runs)))
    o.append("};")
    o.append("static const struct flag_case { const char *name; uint64_t has[%d], lacks[%d]; } "
             "flag_cases[] = {" % (len(runs), len(runs)))
    for name in runs[0]["flags"]:
        o.append('    {"Py_TPFLAGS_%s", {%s}, {%s}},' % (
            name, ", ".join("0x%xull" % r["flags"][name][0] for r in runs),
            ", ".join("0x%xull" % r["flags"][name][1] for r in runs)))
    o.append("};")
    print("\n".join(o))


if __name__ == "__main__":
    main()
