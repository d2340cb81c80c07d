"""pyrepr_oracle.py — dumpfmt/pyrepr.c (the repr() that spells dict keys in paths and float and
bytes previews) against Python's own repr(), on edge cases and random values: floats of every
exponent and bit pattern (1e15, 1e16, 1e-05, -0.0, subnormals, inf, nan), strs with quotes,
escapes, controls, non-ASCII and astral characters (and surrogates, which UTF-8 cannot carry:
rejected), bytes with every byte value and every quote mix; and back: each str's repr() read by
hs_py_str_unrepr (dict keys named in the leak report) as that str, and what repr() never
writes refused.

The table of printable characters is Python 3.13's (Unicode 15.1): on an older Python a
character it has not assigned yet (category Cn there) may be escaped by its repr and not by
heapsnap's; no other difference is allowed.

usage: pythonX pyrepr_oracle.py HS_PYREPR
"""
import random
import struct
import subprocess
import sys
import unicodedata

N = 100000


def cases():
    rng = random.Random(16)
    floats = [0.0, -0.0, 1e15, 1e16, 1e-4, 1e-5, 0.1, 1 / 3, 5e-324, 2.2250738585072014e-308,
              1.7976931348623157e308, float("inf"), float("-inf"), float("nan"), 1.5, 100.0,
              -2.5e-7, 9999999999999998.0, 123456789012345678.0, 1e22, 1e23]
    for _ in range(N):
        r = rng.random()
        if r < 0.4:
            floats.append(struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0])
        elif r < 0.7:
            floats.append(round(rng.uniform(-1e6, 1e6), rng.randint(0, 8)))
        else:
            floats.append(rng.uniform(-10, 10) * 10 ** rng.randint(-30, 30))
    for f in floats:
        yield "f " + struct.pack(">d", f).hex(), repr(f), None
    strs = ["", "it's", 'say "hi"', "both '\"", "\b\n\t\r\x00\x7f\x1f", "caf\u00e9", "\u4e2d",
            "\U0001f600", "\xa0\xad\u2028\u200b\ue000\U000e0001\U0010ffff", "\\", "\x80\x9f\xff",
            "\u0378", "\ufffd", "\u2026"]
    for _ in range(N // 4):
        strs.append("".join(chr(rng.choice([rng.randint(0, 0x7F), rng.randint(0x80, 0xFFFF),
                                            rng.randint(0x10000, 0x10FFFF)]))
                            for _ in range(rng.randint(0, 8))))
    for s in strs:
        if any(0xD800 <= ord(c) < 0xE000 for c in s):
            yield "s " + s.encode("utf-8", "surrogatepass").hex(), "FAIL", None
        else:
            yield "s " + s.encode().hex(), repr(s), s
            # and back: the literal repr() writes spells s (hs_py_str_unrepr)
            yield "u " + repr(s).encode().hex(), s.encode().hex(), None
    # what repr() never writes is no literal
    for lit in ["'abc", "abc'", "'a'b'", '"a"b"', r"'\q'", r"'\x4'", r"'\u12'", "'\\'",
                r"'\ud800'", r"'\U00110000'", "''''", "x", "", "'abc\""]:
        yield "u " + lit.encode().hex(), "FAIL", None
    for lit, value in [('"it\'s"', "it's"), (r"""'both \'"'""", "both '\""),
                       (r"'\x00\t\\'", "\x00\t\\"), (r"'\U0001f600'", "\U0001f600")]:
        yield "u " + lit.encode().hex(), value.encode().hex(), None
    blobs = [bytes(range(256)), b"it's", b'"', b"'\"", b"", b"x" * 150]
    blobs += [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 12))) for _ in range(N // 20)]
    for b in blobs:
        yield "b " + b.hex(), repr(b[:100]) + ("\u2026" if len(b) > 100 else ""), None


def unassigned_raw(text, s):
    """text with the escapes of the characters of s this Python has not assigned written raw."""
    for c in set(s):
        if unicodedata.category(c) == "Cn":
            text = text.replace(repr(c)[1:-1], c)
    return text


def main():
    todo = list(cases())
    out = subprocess.run([sys.argv[1]], input="\n".join(c for c, _, _ in todo) + "\n",
                         capture_output=True, text=True, errors="surrogateescape", check=True)
    got = out.stdout.split("\n")
    bad = []
    allowed = 0
    for (case, want, s), g in zip(todo, got):
        if g == want:
            continue
        if s is not None and unassigned_raw(g, s) == unassigned_raw(want, s):
            allowed += 1
            continue
        bad.append((case[:50], want, g))
    print(f"{len(todo)} cases on Python {sys.version.split()[0]} (Unicode "
          f"{unicodedata.unidata_version}): {len(bad)} differ, {allowed} only in characters "
          "this Python has not assigned")
    for b in bad[:10]:
        print("FAIL: %s: repr %r, heapsnap %r" % b)
    return 1 if bad or len(got) < len(todo) else 0


if __name__ == "__main__":
    sys.exit(main())
