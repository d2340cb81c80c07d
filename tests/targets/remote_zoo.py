"""remote_zoo.py — a target for the out-of-process capture tests (tests/integration/remote_*.py).

Builds an object zoo covering the builtin types the walker knows, plants cyclic garbage with the
collector disabled, records in-process ground truth (gc.get_objects, sys.getsizeof,
gc.get_referents, refcounts, weak references) to TRUTH.json, prints "ready" and blocks reading
stdin.  On "collect\n" it runs gc.collect() with DEBUG_SAVEALL and writes the ids of gc.garbage
to GARBAGE.json, prints "collected" and blocks again; EOF ends it.

usage: python remote_zoo.py TRUTH.json GARBAGE.json [N_EXTRA_OBJECTS]
"""
import array
import asyncio
import collections
import contextvars
import functools
import gc
import itertools
import json
import os
import sys
import types
import weakref
import xml.etree.ElementTree as ET

gc.disable()
gc.set_threshold(1234, 11, 12)  # remote_capture.py finds these in the snapshot's meta


class Plain:
    def __init__(self, a, b):
        self.a = a
        self.b = b


class Slotted:
    __slots__ = ("x", "y", "__weakref__")

    def __init__(self, x):
        self.x = x


class WithDel:
    def __del__(self):
        pass


class MyList(list):
    pass


class _Renamed:  # a class whose __name__ is reassigned, as SQLAlchemy's symbol is
    pass


_Renamed.__name__ = "Renamed"


class MyDict(dict):
    pass


class Meta(type):
    pass


class WithMeta(metaclass=Meta):
    prop = property(lambda self: 1)
    sm = staticmethod(len)
    cm = classmethod(len)


def gen():
    local = [1, 2, 3]
    yield local


def closure_maker(v):
    def inner():
        return v
    return inner


zoo = {
    "list": [1, 2.5, "three", b"four", None, True],
    "tuple": (1, "two", (3,)),
    "dict": {"k": "v", 1: 2, (1, 2): [3]},
    "strdict": {"alpha": 1, "beta": [2]},
    "set": {1, 2, 3, "x"},
    "bigset": set(range(100)),
    "frozenset": frozenset({"a", "b"}),
    "plain": Plain([1], {"z": 1}),
    "slotted": Slotted([5]),
    "mylist": MyList([1, 2]),
    "renamed": _Renamed(),
    "mydict": MyDict(a=1),
    "closure": closure_maker([42]),
    "gen": gen(),
    "bound": Plain(1, 2).__init__,
    "withmeta": WithMeta(),
    "bytearray": bytearray(b"abc" * 10),
    "unicode": "h\u00e9llo \u4e16\u754c",
    "bigint": 2 ** 100,
    "float": 3.25,
    "exc": ValueError("bad"),
    "slice": slice(1, 2, 3),
}
# The standard library's C types (capture/remote/kinds_stdlib.c).
loop = asyncio.new_event_loop()
cvar = contextvars.ContextVar("cvar", default="dflt")
token = cvar.set(["in context"])


@functools.lru_cache(maxsize=8)
def cached(x):
    return [x]


for i in range(12):
    cached(i)
    cached(str(i))


async def pending():
    await loop.create_future()


element = ET.Element("root", {"a": "1"})
element.text, element.tail = "text", "tail"
for i in range(6):
    ET.SubElement(element, "child").text = str(i)
zoo["stdlib"] = {
    "deque": collections.deque([[i] for i in range(150)] + ["s"]),
    "deque_rotated": collections.deque(range(70), maxlen=70),
    "odict": collections.OrderedDict((str(i), [i]) for i in range(20)),
    "odict_int": collections.OrderedDict((i, [i]) for i in range(5)),
    "defaultdict": collections.defaultdict(list, {"k": [1]}),
    "partial": functools.partial(Plain, [1], b={"kw": 2}),
    "lru": cached,
    "future": loop.create_future(),
    "task": loop.create_task(pending()),
    "context": contextvars.copy_context(),
    "token": token,
    "element": element,
    "array": array.array("q", range(100)),
    "namespace": types.SimpleNamespace(x=[1], y="y"),
    "mappingproxy": types.MappingProxyType({"m": [1]}),
    "method_wrapper": [1].__len__,
    "namedtuple": collections.namedtuple("Pair", "left right")([1], "r"),
    "itertools": [itertools.count(10 ** 20, 3), itertools.repeat([1], 3),
                  itertools.cycle(["c"]), itertools.chain([1], ["x"]),
                  itertools.islice(iter([1, 2, 3]), 1, 2)],
    "future_iter": iter(loop.create_future()),
    "structseq": [os.stat("/"), __import__("time").localtime(0), sys.flags, sys.version_info],
}
zoo["stdlib"]["deque_rotated"].rotate(13)
zoo["stdlib"]["future"].set_result(["result"])
for i in range(40):  # a HAMT with bitmap and array nodes
    zoo["stdlib"]["context"].run(contextvars.ContextVar(f"v{i}").set, [i])
zoo["materialised"] = Plain(1, 2)
zoo["materialised"].__dict__["extra"] = 3
zoo["weak_alive"] = weakref.ref(zoo["plain"])
dead = Plain(0, 0)
zoo["weak_dead"] = weakref.ref(dead)
del dead
zoo["extra"] = [[i, str(i)] for i in range(int(sys.argv[3]) if len(sys.argv) > 3 else 0)]


def plant_garbage():
    a = []
    a.append(a)
    p = Plain(None, None)
    p.a = p
    d = {}
    d["self"] = d
    w = WithDel()
    w.me = w
    s = Slotted(None)
    s.x = s
    g = gen()
    next(g)
    cyc = [g]
    cyc.append(cyc)
    dq = collections.deque()
    dq.append(dq)
    od = collections.OrderedDict()
    od["me"] = od
    pa = functools.partial(print)
    pa.__dict__["me"] = pa
    el = ET.Element("cycle")
    el.text = [el]
    fu = loop.create_future()
    fu.set_result(fu)


plant_garbage()
probe = []  # referenced only by this module's dict: its true refcount is 1


def record(path):
    objs = gc.get_objects()
    # calibrate getrefcount in this exact context: probe's true count is 1
    base = None
    for o in objs:
        if o is probe:
            base = sys.getrefcount(o) - 1
    out = []
    for o in objs:
        out.append([id(o), type(o).__name__, sys.getsizeof(o), sys.getrefcount(o) - base,
                    [id(r) for r in gc.get_referents(o)]])
    weak = [[id(o), id(o()) if o() is not None else None] for o in objs
            if type(o) is weakref.ref]
    # json.dumps (the C encoder) rather than json.dump, whose Python encoder leaves closures in
    # reference cycles behind while the collector is off.
    # every type as Python names it: type.__name__ and type.__module__
    names = sorted({(type(o).__name__, type(o).__module__) for o in objs})
    text = json.dumps({"objects": out, "weak": weak, "self": [id(objs)], "types": names})
    with open(path, "w") as f:
        f.write(text)
    objs.clear()


record(sys.argv[1])
# os.write, not sys.stdout: a capture that starts at once must not find this frame holding
# sys.stdout on its stack.
os.write(1, b"ready\n")
# Block on the file descriptor, not sys.stdin: iterating sys.stdin would hold a reference to it
# in this frame while the capture counts its references.
while True:
    line = os.read(0, 64)
    if not line:
        break
    if line.strip() == b"collect":
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        with open(sys.argv[2], "w") as f:
            f.write(json.dumps([id(o) for o in gc.garbage]))
        os.write(1, b"collected\n")
os._exit(0)  # no teardown: the pending task would complain
