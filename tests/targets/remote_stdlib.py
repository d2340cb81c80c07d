"""remote_stdlib.py — a stdlib workload (asyncio, ElementTree, collections, functools, contextvars,
array, itertools, ...) that snapshots itself in process, then pauses, so that
tests/integration/remote_vs_inproc.py captures the same heap out of process.

Its data lives inside the C types real programs hold data in: deque blocks, OrderedDict,
defaultdict, functools.partial and lru_cache wrappers, asyncio Futures and Tasks, contextvars
Contexts, ElementTree Elements, arrays, SimpleNamespaces, struct sequences; some of them form
cyclic garbage (the collector is off) that gc.collect() would free.

usage: PYTHONPATH=BUILD/capture/inproc python remote_stdlib.py INPROC.hsnap [SCALE]
"""
import array
import asyncio
import collections
import contextvars
import functools
import gc
import itertools
import os
import sys
import time
import types
import xml.etree.ElementTree as ET

import heapsnap

gc.disable()
SCALE = int(sys.argv[2]) if len(sys.argv) > 2 else 1


def records(n, tag):
    return [{"id": i, "name": f"{tag}-{i}", "score": i * 1.5} for i in range(n)]


# collections: data held only inside deque blocks, OrderedDicts and defaultdicts.
recent = collections.deque(records(300 * SCALE, "recent"), maxlen=1000)
recent.extend(f"line {i}" for i in range(100))
ordered = collections.OrderedDict((f"k{i}", {"v": i, "s": str(i * 7)}) for i in range(200 * SCALE))
ordered.move_to_end("k3")
groups = collections.defaultdict(list)
for i in range(300 * SCALE):
    groups[i % 17].append(f"member {i}")
counts = collections.Counter(f"word{i % 50}" for i in range(1000))
Point = collections.namedtuple("Point", "x y")
points = [Point(i, str(i)) for i in range(50)]


class Record:
    pass


# functools: partials and an lru_cache holding results.
def scale(factor, value, *, offset=0):
    return {"scaled": factor * value + offset}


scalers = [functools.partial(scale, i, offset=f"off{i}") for i in range(50 * SCALE)]


@functools.lru_cache(maxsize=256)
def lookup(key):
    return {"key": key, "text": f"value of {key}"}


for i in range(200):
    lookup(i)

# contextvars: values reachable only through a Context's HAMT.
request_id = contextvars.ContextVar("request_id", default=None)
user = contextvars.ContextVar("user")
token = request_id.set(["outer request"])
contexts = []
for i in range(40):
    ctx = contextvars.copy_context()
    ctx.run(user.set, {"user": f"u{i}", "roles": ["r" + str(i)]})
    contexts.append(ctx)

# ElementTree: trees built and parsed, attributes, text and tails only in Element storage.
root = ET.Element("catalog", {"version": "2"})
for i in range(300 * SCALE):
    item = ET.SubElement(root, "item", {"id": str(i), "kind": f"kind{i % 7}"})
    item.text = f"item text {i}"
    item.tail = f"\n tail {i}"
    ET.SubElement(item, "price").text = f"{i}.99"
parsed = ET.fromstring("<a x='1'><b>text<c/>tail</b>" + "<d k='v'>d</d>" * 50 + "</a>")

# asyncio: pending tasks and futures with callbacks, results, exceptions and contexts.
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
gate = loop.create_future()


async def worker(i):
    request_id.set({"request": i})
    data = {"worker": i, "payload": [f"p{i}-{j}" for j in range(5)]}
    await gate
    return data


tasks = [loop.create_task(worker(i)) for i in range(60 * SCALE)]
done = loop.create_future()
done.set_result({"done": ["result"]})
failed = loop.create_future()
failed.set_exception(ValueError("failed future"))
waiting = [loop.create_future() for _ in range(20)]
for f in waiting:
    f.add_done_callback(functools.partial(print, "done"))
loop.run_until_complete(asyncio.sleep(0))  # the tasks run to their first await

# Other C types: arrays, namespaces, struct sequences, itertools, descriptors, mappingproxy.
arrays = [array.array("d", range(i * 10)) for i in range(1, 20)]
arrays.append(array.array("u", "text in an array"))
namespaces = [types.SimpleNamespace(a=i, b=f"ns{i}", c=[i]) for i in range(50)]
stats = [os.stat("/"), time.localtime(0), sys.version_info, sys.flags]
iters = [itertools.count(5), itertools.cycle(["c1", "c2"]), itertools.chain([1], ["x"]),
         itertools.repeat("r", 3), itertools.islice(range(100), 5, 10),
         itertools.product("ab", repeat=2), itertools.accumulate([1, 2, 3])]
proxy = types.MappingProxyType({"proxied": ["value"]})


class Described:
    prop = property(lambda self: 1, doc="a property")
    sm = staticmethod(lambda: "static")
    cm = classmethod(lambda cls: "class")


# Cyclic garbage through these types (gc.collect() would free all of it).
def plant_garbage():
    d = collections.deque()
    d.append(d)
    od = collections.OrderedDict()
    od["self"] = od
    dd = collections.defaultdict(list)
    dd["me"] = dd
    p = functools.partial(print)
    holder = [p]
    p2 = functools.partial(print, holder)
    holder.append(p2)
    e = ET.Element("cycle")
    e.attrib["x"] = "y"
    e.text = [e]
    fut = loop.create_future()
    fut.set_result(fut)
    ctx = contextvars.copy_context()
    ctx.run(user.set, [ctx])
    ns = types.SimpleNamespace()
    ns.me = ns


plant_garbage()

# One line: the module frame is at the same line in both captures (its root names the line).
heapsnap.dump(sys.argv[1]); os.write(1, b"ready\n"); os.read(0, 1)  # noqa: E702
os._exit(0)  # no teardown: the pending tasks would complain
