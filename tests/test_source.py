"""show_source reads the library's real lines: whole functions and marked regions."""

import inspect

import pytest

from course_lib import source
from course_lib.source import show_source, source_regions


def _sample(x):
    y = x + 1
    # region: double
    z = 2 * y  # z = 2y
    # endregion: double
    return z


def test_whole_function_is_its_real_source():
    excerpt = show_source(_sample)
    lines, start = inspect.getsourcelines(_sample)
    # the whole source, less the region markers (they are for the library's readers)
    assert excerpt.code == "".join(l for l in lines if "region: double" not in l).rstrip("\n")
    assert "z = 2 * y" in excerpt.code and "region" not in excerpt.code
    assert excerpt.first_line == start and excerpt.last_line == start + len(lines) - 1
    assert excerpt.path.endswith("test_source.py")


def test_region_gives_the_lines_between_the_markers_with_their_numbers():
    excerpt = show_source(_sample, "double")
    assert excerpt.code == "z = 2 * y  # z = 2y"
    _, start = inspect.getsourcelines(_sample)
    assert excerpt.first_line == excerpt.last_line == start + 3
    assert source_regions(_sample) == ["double"]
    assert str(excerpt).startswith("# ") and "lines" in str(excerpt)
    assert excerpt._repr_markdown_().startswith("```python")


def test_library_code_is_found_and_labelled_with_its_package_path():
    excerpt = show_source(show_source)
    assert excerpt.path == "course_lib/source.py"
    assert "def show_source" in excerpt.code


def test_triton_style_wrapper_is_unwrapped():
    class Jitted:
        fn = staticmethod(_sample)

    assert show_source(Jitted()).code == show_source(_sample).code


def test_bad_input_is_explained():
    with pytest.raises(TypeError, match="function, method or class"):
        show_source(42)
    with pytest.raises(ValueError, match=r"regions there: \['double'\]"):
        show_source(_sample, "triple")
    with pytest.raises(TypeError, match="region must be a str"):
        show_source(_sample, 3)


def test_unclosed_region_is_reported(tmp_path, monkeypatch):
    lines = ["def f():\n", "    # region: open\n", "    return 1\n"]
    monkeypatch.setattr(source, "_source_lines", lambda obj: (lines, 1, "f.py"))
    with pytest.raises(ValueError, match="has no '# endregion: open'"):
        show_source(object(), "open")
