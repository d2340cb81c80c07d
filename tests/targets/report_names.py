"""report_names.py — a heap whose names and values are hostile to an HTML page, for the report
test (test_report.py): every one must come out as text, never as markup or script.

  globals()[NASTY]            a module global named with </script>, an <img onerror>, &amp;,
                              <!--<script>, quotes and a newline, holding 400 KB
  HOSTILE_MODULE              a module in sys.modules named '<mod&"\n>' with a 300 KB global
  Bold                        a class whose __name__ and __qualname__ are '<b>Bold&"Class\'</b>\n'
                              (INSTANCES: 3,000 of them)
  HANDLER                     a closure whose __qualname__ is '<i>closure</i>&"\'\nname'
  VALUES                      a list of 30 str of 2,000 characters that start with markup

usage: python report_names.py SNAPSHOT
Writes SNAPSHOT with heapsnap.dump and prints its path.
"""
import sys
import types

import heapsnap

NASTY = '</script><img src=x onerror="document.title=\'pwned\'">&amp;<!--<script>\n"\'x'
MODULE_NAME = '<mod&"\n>'
CLASS_NAME = '<b>Bold&"Class\'</b>\n'
FUNC_NAME = '<i>closure</i>&"\'\nname'
VALUE = '<script>document.title="pwned"</script>&lt;"\'\n'


def make_handler():
    big = [bytes(1000) for _ in range(300)]

    def handler():
        return big
    handler.__qualname__ = FUNC_NAME
    return handler


def main():
    g = globals()
    g[NASTY] = [bytes(1000) for _ in range(400)]
    mod = types.ModuleType(MODULE_NAME)
    mod.BIG = [bytes(1000) for _ in range(300)]
    sys.modules[MODULE_NAME] = mod
    bold = type(CLASS_NAME, (), {})
    g["Bold"] = bold
    g["INSTANCES"] = [bold() for _ in range(3000)]
    g["HANDLER"] = make_handler()
    g["VALUES"] = [(VALUE * 50 + str(i))[:2000] for i in range(30)]
    heapsnap.dump(sys.argv[1])
    print(sys.argv[1], flush=True)


if __name__ == "__main__":
    main()
