import io

from core import progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_non_tty_prints_quiet_lines_at_each_tenth_not_each_item():
    out = io.StringIO()
    items = list(progress(range(100), desc="train", stream=out, every_seconds=1e9))
    assert items == list(range(100))
    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("train: 10/100 (10%)")
    assert lines[-1].startswith("train: 100/100 (100%)")
    assert "\r" not in out.getvalue()


def test_non_tty_without_length_reports_count_and_a_final_line():
    out = io.StringIO()
    assert sum(progress((i for i in range(7)), desc="gen", stream=out, every_seconds=1e9)) == 21
    assert out.getvalue().splitlines() == [
        line for line in out.getvalue().splitlines() if line.startswith("gen: 7")
    ]


def test_terminal_gets_a_tqdm_bar():
    out = FakeTerminal()
    assert list(progress(range(5), desc="bar", stream=out)) == list(range(5))
    assert "\r" in out.getvalue() and "5/5" in out.getvalue()


def test_disable_prints_nothing():
    out = io.StringIO()
    assert list(progress(range(3), stream=out, disable=True)) == [0, 1, 2]
    assert out.getvalue() == ""
