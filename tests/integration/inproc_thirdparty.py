"""inproc_thirdparty.py: heapsnap.dump() of a realistic heap that no one here wrote.

usage: PYTHONPATH=BUILD/capture/inproc python3.11 inproc_thirdparty.py HEAPSNAP_CLI

Imports and exercises sympy (expressions, simplify, solve, integrate), networkx (a graph and
a few algorithms), jinja2 (a template with a macro, a loop and filters) and pydantic (nested
models validating data), then dumps and checks the oracles of inproc_check.compare over every
object reachable from gc.get_objects() (sizes = sys.getsizeof, traverse edges =
gc.get_referents as multisets, the unreachable set = what gc.collect() finds with
DEBUG_SAVEALL), refcounts of a random sample against sys.getrefcount, and a few facts about
the packages' own objects (instance counts, labels).
HEAPSNAP_TEST_THREADS=N dumps with heapsnap.dump(..., threads=N) (meson runs it with 2 too).
"""
import gc
import os
import random
import subprocess
import sys
import tempfile

import jinja2
import networkx as nx
import pydantic
import sympy

import heapsnap
from inproc_check import Failures, collect_garbage, compare, load, take_truth

THREADS = int(os.environ.get("HEAPSNAP_TEST_THREADS", "0"))

WORK = {}


def exercise_sympy():
    x, y, z = sympy.symbols("x y z")
    expr = sympy.sin(x) ** 2 + sympy.cos(x) ** 2 + (x + y) ** 3 / (x + y)
    WORK["sympy_simplified"] = sympy.simplify(expr)  # 1 + (x + y)**2
    WORK["sympy_expanded"] = sympy.expand((x + 2 * y - z) ** 5)
    WORK["sympy_integral"] = sympy.integrate(x ** 2 * sympy.exp(x), x)
    WORK["sympy_roots"] = sympy.solve(x ** 2 - 5 * x + 6, x)
    WORK["sympy_diff"] = sympy.diff(sympy.atan(x * y), x, y)
    WORK["sympy_symbols"] = (x, y, z)
    assert WORK["sympy_roots"] == [2, 3], WORK["sympy_roots"]
    assert sympy.simplify(WORK["sympy_simplified"] - (1 + (x + y) ** 2)) == 0


def exercise_networkx():
    g = nx.gnm_random_graph(300, 1200, seed=7)
    for u, v in g.edges:
        g.edges[u, v]["weight"] = (u * 31 + v * 17) % 10 + 1
    WORK["nx_graph"] = g
    WORK["nx_paths"] = nx.single_source_dijkstra_path_length(g, 0)
    WORK["nx_components"] = list(nx.connected_components(g))
    WORK["nx_betweenness"] = nx.betweenness_centrality(g, k=40, seed=3)
    WORK["nx_mst"] = nx.minimum_spanning_tree(g)
    d = nx.DiGraph([(i, (i * 7 + 3) % 50) for i in range(50)])
    WORK["nx_digraph"] = d
    WORK["nx_cycles"] = list(nx.simple_cycles(d))
    WORK["nx_topo"] = list(nx.topological_sort(nx.DiGraph([(i, i + 1) for i in range(30)])))


def exercise_jinja2():
    env = jinja2.Environment(loader=jinja2.DictLoader({
        "base.html": "<ul>{% block items %}{% endblock %}</ul>",
        "page.html": """{% extends "base.html" %}
{% macro item(name, n) %}<li class="{{ 'odd' if n is odd else 'even' }}">{{ name|title }}: {{ n }}</li>{% endmacro %}
{% block items %}{% for k, v in rows|dictsort %}{{ item(k, v) }}{% endfor %}{% endblock %}""",
    }), autoescape=True)
    t = env.get_template("page.html")
    WORK["jinja_env"] = env
    WORK["jinja_template"] = t
    WORK["jinja_html"] = t.render(rows={"alpha <b>": 1, "beta": 2, "gamma": 3})
    assert 'class="odd">Alpha &lt;B&gt;: 1</li>' in WORK["jinja_html"], WORK["jinja_html"]


class Address(pydantic.BaseModel):
    street: str
    city: str
    zip_code: str = pydantic.Field(pattern=r"^\d{5}$")


class Person(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=0, le=150)
    emails: list[str] = []
    address: Address | None = None
    tags: dict[str, float] = {}

    @pydantic.field_validator("name")
    @classmethod
    def name_is_capitalised(cls, v):
        if not v[:1].isupper():
            raise ValueError("name must be capitalised")
        return v


def exercise_pydantic():
    people = [Person.model_validate({
        "name": "Person%d" % i, "age": str(20 + i),  # str -> int coercion
        "emails": ["p%d@example.org" % i],
        "address": {"street": "%d Main St" % i, "city": "Town", "zip_code": "%05d" % i},
        "tags": {"score": i / 3},
    }) for i in range(40)]
    WORK["pydantic_people"] = people
    WORK["pydantic_json"] = [p.model_dump_json() for p in people[:5]]
    try:
        Person.model_validate({"name": "lower", "age": -1})
        raise AssertionError("invalid data validated")
    except pydantic.ValidationError as e:
        WORK["pydantic_errors"] = e.errors()
    assert people[3].age == 23 and people[3].address.zip_code == "00003"


def main():
    cli = sys.argv[1]
    fails = Failures()
    exercise_sympy()
    exercise_networkx()
    exercise_jinja2()
    exercise_pydantic()
    d = tempfile.mkdtemp(prefix="inproc-thirdparty-")
    path = os.path.join(d, "heap.hsnap")
    subprocess.run([cli, "--help"], capture_output=True)  # what subprocess loads, loaded now
    rng = random.Random(11)
    gc.disable()
    counts = heapsnap.dump(path, threads=THREADS)
    garbage = collect_garbage()
    truth = take_truth(exclude=(garbage, counts) + tuple(counts.values()))  # made after it
    snap = load(cli, path)
    nsize, nedge = compare(snap, truth, garbage, fails)
    O = snap.objects
    fails.check(counts["objects"] == len(O) and len(O) > 100000,
                "counts %s, %d objects in the snapshot" % (counts, len(O)))

    # Refcounts of a sample: now, the sample's tuple, truth's tuple, `o` and getrefcount's
    # argument hold 3 more than at the dump.  Left out: what the checking itself touches
    # (str and int, which truth's tuples and the export share; types, whose instances came
    # and went; the garbage, which `garbage` now holds; sys.getrefcount) and frames.    # sys.getrefcount itself is on the stack while it counts itself, and heapsnap.dump was on
    # the stack while it dumped (one reference more then than now).
    skip = {id(g) for g in garbage} | {id(sys.getrefcount), id(heapsnap.dump)}
    pool = [a for a, t in truth.items()
            if a in O and a not in skip and
            t[1] not in ("str", "int", "type", "frame", "bool", "NoneType")]
    sample = rng.sample(pool, min(20000, len(pool)))
    bad = []
    for a in sample:
        o = truth[a][0]
        if O[a]["refcnt"] != sys.getrefcount(o) - 3:
            bad.append((hex(a), truth[a][1], O[a]["refcnt"], sys.getrefcount(o) - 3))
        del o
    fails.check(not bad and len(sample) > 10000, "%d of %d sampled refcounts differ, e.g. %s"
                % (len(bad), len(sample), bad[:8]))

    # The packages' objects: instance counts over gc.get_objects(), and labels.
    objs = gc.get_objects()
    for cls in (Person, Address, sympy.Symbol, sympy.Add, sympy.Mul, nx.Graph, nx.DiGraph,
                jinja2.Template, jinja2.Environment):
        live = sum(1 for o in objs if type(o) is cls)
        snapped = sum(1 for a, o in O.items() if o["type"] == cls.__name__ and
                      a in truth and type(truth[a][0]) is cls)
        fails.check(live == snapped and live > 0, "%s: %d in snapshot, %d by gc.get_objects()"
                    % (cls.__name__, snapped, live))
    del objs
    g = WORK["nx_graph"]
    direct = snap.labels(id(g), id(g._adj))
    via_dict = snap.labels(id(g.__dict__), id(g._adj)) if not direct else None
    fails.check(direct == ["._adj"] or via_dict == ["['_adj']"],
                "networkx graph ._adj label: %s / %s" % (direct, via_dict))
    people = WORK["pydantic_people"]
    fails.check(snap.labels(id(people), id(people[7])) == ["[7]"], "pydantic list label")
    x = WORK["sympy_symbols"][0]
    fails.check(O[id(x.name)].get("value") == "x", "sympy symbol name value")
    fails.check(O[id(WORK["jinja_html"])].get("value", "").startswith("<ul>"), "jinja html")
    print("compared %d sizes, %d edge lists, %d refcounts" % (nsize, nedge, len(sample)))
    os.unlink(path)
    os.rmdir(d)
    fails.finish("inproc_thirdparty")


if __name__ == "__main__":
    main()
