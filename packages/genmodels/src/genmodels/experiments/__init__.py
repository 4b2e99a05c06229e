"""The package's experiments (`reproduce genmodels --only NAME`), one module per sub-experiment."""
