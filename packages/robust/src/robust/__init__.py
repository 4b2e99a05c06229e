"""robust: Adversarial robustness: white-box, black-box and spatial attacks, defenses and certified training (IBP and more).

Status: planned. The package installs and its CLI runs, but no model or experiment is implemented
yet, so it registers no ``reproduce`` experiment.
"""

__all__: list[str] = []
__version__ = "0.1.0"
