"""The media and model pipeline as plain Python: no Django, no database.

Every step takes paths, arrays, strings and dataclasses and returns them, so it
can be used from a notebook or from `python -m ml`.
"""
