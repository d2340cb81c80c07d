"""field_apps.py: real heaps of the kind issue 16 found wrong answers on, for field_truth.py.

build(work) fills the dict `work` with named objects whose deep sizes, dominators and garbage
the test checks, and returns the parts it could not build (a package that is missing):
  stdlib (every interpreter): lists of ChainMap/numbers.Integral (ABCMeta classes), Enum
    members (EnumMeta), bound methods, closures, plain functions, data records;
  django: settings.configure with an in-memory sqlite database, two ORM models (ModelBase)
    with rows saved and queried back;
  sqlalchemy: a 1.4 declarative model set and a Session over in-memory sqlite, objects added,
    flushed and queried;
  numpy: an object array, a view of it (ndarray has no tp_traverse);
and deliberate garbage: cycles with and without __del__, left for gc.collect() to find.
"""
import collections
import enum
import numbers


class Record:
    def __init__(self, i):
        self.i = i
        self.name = "record-%d" % i
        self.tags = ["t%d" % (i % 7), "t%d" % (i % 11)]

    def describe(self):
        return self.name


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 3


class Finalized:
    def __del__(self):
        pass


def make_closure(i):
    captured = ["closure-%d" % i, i]

    def inner():
        return captured

    return inner


def stdlib(work):
    work["abc_classes"] = [collections.ChainMap, numbers.Integral]
    work["enum_members"] = [Color.RED, Color.GREEN, Color.BLUE, Color]
    records = [Record(i) for i in range(300)]
    work["records"] = records
    work["bound_methods"] = [r.describe for r in records for _ in range(4)]  # 1,200
    work["closures"] = [make_closure(i) for i in range(200)]
    work["functions"] = [Record.describe, make_closure, stdlib]
    work["chainmap"] = collections.ChainMap({"a": [1, 2]}, {"b": "two"})


def garbage():
    """Cycles nobody holds: a list cycle, an instance cycle, one with a finalizer."""
    a = [[]]
    a[0].append(a)
    r = Record(-1)
    r.me = r
    f = Finalized()
    f.cycle = [f]


def django(work):
    from django.conf import settings

    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["django.contrib.contenttypes"], USE_TZ=False,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField")
    import django as dj
    dj.setup()
    from django.db import connection, models

    class Author(models.Model):
        name = models.CharField(max_length=50)

        class Meta:
            app_label = "field_apps"

    class Book(models.Model):
        title = models.CharField(max_length=100)
        author = models.ForeignKey(Author, on_delete=models.CASCADE)

        class Meta:
            app_label = "field_apps"

    with connection.schema_editor() as editor:
        editor.create_model(Author)
        editor.create_model(Book)
    for i in range(20):
        a = Author.objects.create(name="author %d" % i)
        for k in range(3):
            Book.objects.create(title="book %d.%d" % (i, k), author=a)
    work["django_models"] = [Author, Book]
    work["django_books"] = list(Book.objects.select_related("author").all())
    work["django_authors"] = list(Author.objects.all())


def sqlalchemy(work):
    import sqlalchemy as sa
    from sqlalchemy.orm import Session, declarative_base, relationship

    Base = declarative_base()

    class User(Base):
        __tablename__ = "users"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(50))
        addresses = relationship("Address", back_populates="user")

    class Address(Base):
        __tablename__ = "addresses"
        id = sa.Column(sa.Integer, primary_key=True)
        email = sa.Column(sa.String(100))
        user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"))
        user = relationship("User", back_populates="addresses")

    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    session = Session(engine)
    for i in range(30):
        u = User(name="user %d" % i)
        u.addresses = [Address(email="u%d.%d@example.org" % (i, k)) for k in range(2)]
        session.add(u)
    session.flush()
    work["sa_models"] = [User, Address]
    work["sa_users"] = session.query(User).order_by(User.id).all()
    work["sa_session"] = session


def numpy(work):
    import numpy as np

    arr = np.empty(50, dtype=object)
    for i in range(50):
        arr[i] = ["numpy element", i]
    work["np_array"] = arr
    work["np_view"] = arr[10:20]
    work["np_element"] = arr[3]


PARTS = [("django", django), ("sqlalchemy", sqlalchemy), ("numpy", numpy)]


def build(work, third_party=True):
    """Builds every part it can; returns [(part, reason)] for those it could not."""
    stdlib(work)
    garbage()
    missing = []
    for name, fn in PARTS if third_party else []:
        try:
            fn(work)
        except ImportError as e:
            missing.append((name, str(e)))
    return missing
