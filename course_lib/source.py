"""Show real library source in a notebook, so an excerpt can never drift from the code.

A notebook that explains a few lines of ``course_lib`` calls :func:`show_source` instead
of pasting them into markdown: it reads the lines from the installed module at run time.
A whole function (or class) is shown by passing it; a part of one is marked in the
library with a pair of comments, which also tell a reader of the library that a notebook
shows these lines::

    # region: online-softmax
    m_new = torch.maximum(m, s.amax(-1))
    ...
    # endregion: online-softmax

and shown with ``show_source(tiled_attention_forward, "online-softmax")``. Triton
``@jit`` functions are unwrapped to their Python source.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SourceExcerpt", "show_source", "source_regions"]

_REGION = re.compile(r"^\s*#\s*region:\s*(?P<name>[\w.-]+)\s*$")
_END = re.compile(r"^\s*#\s*endregion:\s*(?P<name>[\w.-]+)\s*$")


@dataclass(frozen=True)
class SourceExcerpt:
    """Lines of library source with where they come from; renders as highlighted code."""

    code: str
    path: str
    first_line: int
    last_line: int

    @property
    def header(self) -> str:
        return f"# {self.path}, lines {self.first_line}-{self.last_line}"

    def __str__(self) -> str:
        return f"{self.header}\n{self.code}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return f"```python\n{self}\n```"


def _unwrap(obj: Any) -> Any:
    """The Python object whose source is wanted (Triton's JITFunction keeps it in ``fn``)."""
    fn = getattr(obj, "fn", None)
    return fn if fn is not None and callable(fn) else obj


def _source_lines(obj: Any) -> tuple[list[str], int, str]:
    """Source lines of ``obj``, its first line number and its path relative to the package."""
    target = _unwrap(obj)
    if not (inspect.isfunction(target) or inspect.isclass(target) or inspect.ismethod(target)):
        raise TypeError(f"show_source needs a function, method or class, got {type(obj).__name__}")
    lines, start = inspect.getsourcelines(target)
    path = Path(inspect.getsourcefile(target) or "<unknown>")
    package_root = Path(__file__).resolve().parent.parent
    try:
        shown = path.resolve().relative_to(package_root).as_posix()
    except ValueError:
        shown = path.name
    return lines, start, shown


def source_regions(obj: Any) -> list[str]:
    """Names of the ``# region: NAME`` markers inside ``obj``'s source."""
    lines, _, _ = _source_lines(obj)
    return [m["name"] for line in lines if (m := _REGION.match(line))]


def show_source(obj: Any, region: str | None = None) -> SourceExcerpt:
    """The source of ``obj``, or of the lines between its ``region``/``endregion`` markers.

    Returns a :class:`SourceExcerpt` that a notebook displays as highlighted code with
    the file and line numbers it came from. Raises ``ValueError`` naming the regions that
    exist when ``region`` is not one of them.
    """
    lines, start, path = _source_lines(obj)
    if region is None:
        body, first = lines, start
    else:
        if not isinstance(region, str):
            raise TypeError(f"region must be a str or None, got {type(region).__name__}")
        opens = [
            i for i, line in enumerate(lines) if (m := _REGION.match(line)) and m["name"] == region
        ]
        if not opens:
            raise ValueError(
                f"no '# region: {region}' marker in {path}; regions there: {source_regions(obj)}"
            )
        i = opens[0]
        ends = [
            j
            for j in range(i + 1, len(lines))
            if (m := _END.match(lines[j])) and m["name"] == region
        ]
        if not ends:
            raise ValueError(f"'# region: {region}' in {path} has no '# endregion: {region}'")
        body, first = lines[i + 1 : ends[0]], start + i + 1
    markers_dropped = [line for line in body if not (_REGION.match(line) or _END.match(line))]
    code = textwrap.dedent("".join(markers_dropped)).rstrip("\n")
    return SourceExcerpt(code=code, path=path, first_line=first, last_line=first + len(body) - 1)
