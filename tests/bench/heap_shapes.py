"""heap_shapes.py -- the Python heaps the benchmarks capture, built in the running interpreter.

Every benchmark that needs a live heap builds it here, so that the shapes have one definition:

  app     (issue 20) an application's records: about 2.1 edges per object.  Records are Record
          instances in families of one parent and three children (parent.children is a list
          of the children, each child's .parent is the parent: reference cycles).  Each record
          has 7 attributes: id (a small int, shared), name (a unique str),
          score (a float), blob (a unique 16-byte bytes), tags (a tuple of two shared strs),
          children (a list), parent (a record or None), and one in 4 records a meta dict
          {"created": float, "owner": name, "flags": [small ints]} in place of the empty list;
          one record in 4 has its __dict__ materialised (read once: on 3.11+ the attributes
          then live in a real dict instead of the instance's inline values).  Records are held
          by a dict {name: parent} and a list of every record.
  points  (issue 3, the flattering one: about 1.2 edges per object, mostly leaves) instances
          with a float and a str each, and lists of ten big ints.
  field   a real application heap: tests/targets/field_apps.py's Django, SQLAlchemy and numpy
          parts (the packages imported, models set up, rows queried) on Debian's python3,
          repeated until about n objects (each round adds ~400 records and closures of the
          stdlib part).

build(shape, n) returns (what it built, a one-line description); the caller keeps the first
alive.  shape_names() lists the shapes.
"""
import gc
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class Record:
    """An application record (see the module comment for its attributes)."""

    def __init__(self, i, parent):
        self.id = i % 250
        self.name = "record-%d" % i
        self.score = i * 0.25
        self.blob = i.to_bytes(16, "little")
        self.tags = TAGS[i % len(TAGS)]
        self.children = []
        self.parent = parent
        if i % 4 == 1:
            self.meta = {"created": i * 1.5, "owner": self.name, "flags": [i % 7, i % 11]}


TAGS = [("tag%d" % (i % 5), "kind%d" % (i % 3)) for i in range(15)]


def build_app(n):
    """About n objects shaped like an application's records (module comment: app)."""
    per_record = 6.15  # the record, name, score, blob, children list; 1 in 4 a meta dict+
    records, by_name = [], {}
    i = 0
    while len(records) * per_record < n:
        parent = Record(i, None)
        by_name[parent.name] = parent
        records.append(parent)
        for k in range(1, 4):
            child = Record(i + k, parent)
            parent.children.append(child)
            records.append(child)
        i += 4
    for r in records[::4]:
        r.__dict__  # noqa: B018  (materialises the instance dict)
    return (records, by_name), "app: %d records, 1 in 4 with a __dict__" % len(records)


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def build_points(n):
    """About n objects: instances with a float and a str each, and lists of big ints."""
    points = [Point(i * 0.5, "p%d" % i) for i in range(n // 12)]  # 3 objects each
    lists = [[j * 1000 + 300 for j in range(i, i + 10)]  # 11 objects each
             for i in range(0, n - 3 * len(points), 11)]
    return (points, lists), "points: %d points, %d lists of 10 ints" % (len(points), len(lists))


def build_field(n):
    """Django, SQLAlchemy and numpy loaded and used (tests/targets/field_apps.py), then its
    stdlib part again until the heap holds about n objects."""
    sys.path.insert(0, os.path.join(HERE, "..", "targets"))
    import field_apps

    work = {}
    missing = field_apps.build(work)
    rounds = []
    while len(gc.get_objects()) < n:
        more = {}
        field_apps.stdlib(more)
        rounds.append(more)
    parts = ["stdlib"] + [p for p, _ in field_apps.PARTS if p not in dict(missing)]
    return (work, rounds), "field: %s, %d extra stdlib rounds" % ("+".join(parts), len(rounds))


SHAPES = {"app": build_app, "points": build_points, "field": build_field}


def shape_names():
    return list(SHAPES)


def build(shape, n):
    """(the heap, its description) of the named shape with about n objects."""
    return SHAPES[shape](n)


def main():
    """python heap_shapes.py SHAPE N OUT.hsnap: builds the heap and dumps it with heapsnap
    (on PYTHONPATH) to OUT.hsnap, for the benchmarks of the analysis (run_all.py)."""
    import heapsnap

    gc.disable()
    heap, desc = build(sys.argv[1], int(sys.argv[2]))  # noqa: F841  (alive while dumped)
    counts = heapsnap.dump(sys.argv[3])
    print("%s: %d objects, %d edges" % (desc, counts["objects"], counts["edges"]))


if __name__ == "__main__":
    main()
