from unittest import mock

from jupyter_tinyai.config import default_threads


def test_default_threads_leave_a_core_free():
    for physical, expected in ((1, 1), (2, 1), (4, 3), (8, 7), (16, 8)):
        with mock.patch("psutil.cpu_count", return_value=physical):
            assert default_threads() == expected
