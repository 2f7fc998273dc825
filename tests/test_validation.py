import pytest
import torch

from course_lib.validation import check_generator, check_int, check_probability, check_real


def test_check_int():
    assert check_int(3, "n") == 3 and check_int(1, "n", minimum=1) == 1
    with pytest.raises(TypeError, match="n must be an int, got float 3.0"):
        check_int(3.0, "n")
    with pytest.raises(TypeError, match="got bool"):
        check_int(True, "n")
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        check_int(0, "n", minimum=1)


def test_check_real_intervals():
    assert check_real(0.5, "x", low=0, high=1) == 0.5
    assert check_real(0, "x", low=0) == 0.0
    with pytest.raises(ValueError, match=r"x must be a finite number in \(0, inf\), got 0"):
        check_real(0, "x", low=0, low_open=True)
    with pytest.raises(ValueError, match=r"in \(-inf, inf\), got nan"):
        check_real(float("nan"), "x")
    with pytest.raises(TypeError, match="x must be a real number"):
        check_real("1", "x")


def test_check_probability():
    assert check_probability(1) == 1.0
    with pytest.raises(ValueError, match=r"p must lie in \(0, 1\), got 1.0"):
        check_probability(1.0, open_interval=True)
    with pytest.raises(ValueError, match=r"q must lie in \[0, 1\], got -0.5"):
        check_probability(-0.5, "q")


def test_check_generator():
    g = torch.Generator()
    assert check_generator(g) is g and check_generator(None) is None
    with pytest.raises(TypeError, match="torch.Generator or None, got int"):
        check_generator(0)
