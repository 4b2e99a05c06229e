"""vision_attention: Bottom-up/top-down attention for captioning and VQA, CoordConv and saliency-map sanity checks.

Status: planned. The package installs and its CLI runs, but no model or experiment is implemented
yet, so it registers no ``reproduce`` experiment.
"""

__all__: list[str] = []
__version__ = "0.1.0"
