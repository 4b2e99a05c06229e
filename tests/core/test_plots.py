import subprocess
import sys


def test_figures_are_saved_without_pyplot_or_a_backend_change(tmp_path):
    code = f"""
import sys
import matplotlib
backend = dict.__getitem__(matplotlib.rcParams, "backend")  # get_backend() itself would load pyplot
from core import new_figure, save_figure
figure = new_figure(3, 2)
figure.add_subplot().plot([0, 1], [1, 0])
path = save_figure(figure, {str(tmp_path / "plot.png")!r})
print(path.stat().st_size > 0, "matplotlib.pyplot" in sys.modules, dict.__getitem__(matplotlib.rcParams, "backend") == backend)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False", "True"]
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
