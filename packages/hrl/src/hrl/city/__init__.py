"""City navigation without a map (Mirowski et al., NeurIPS 2018): procedural cities (`hrl.envs.city`),
the CityNav agent with per-city goal pathways and its A2C learner (`agent`), StreetLearn-format data
(`streetlearn`), torch-free configs (`config`)."""
