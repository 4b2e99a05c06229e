"""The package's studies, one module each (`hrl.experiments.hiro`); registered in `hrl.reproduce`."""
