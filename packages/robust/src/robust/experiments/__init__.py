"""The sub-experiments of ``reproduce robust`` (one module each; see `robust.reproduce.EXPERIMENTS`)."""
