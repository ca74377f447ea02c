"""pytest setup for python/tests: `import convkit` comes from the repository's
python/ directory, and the zoo / truth helpers from this one.

Run with Debian's interpreter (torch 1.13, torchvision 0.14):
    /usr/bin/python3 -m pytest python/tests
test_against_torch.py skips itself, saying why, when convkit cannot be imported.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)

for _p in (HERE, PYDIR):
    if _p not in sys.path:
        sys.path.insert(0, _p)
