"""World Models (Ha & Schmidhuber 2018) on gymnasium's CarRacing-v3: V (conv VAE), M (MDN-RNN), C (linear, CMA-ES).

One module per part: `env` (the CarRacing wrapper and its 64x64 preprocessing), `rollouts`
(random-policy episodes on disk), `vision` (V), `memory` (M), `controller` (C), `cmaes` (the CMA-ES
driver with joblib workers), `dream` (the environment simulated by M), `pipeline` (the resumable
stages). The paper used CarRacing-v0, whose lap-completion and termination rules differ from v3:
scores here are not directly comparable with its 906 ± 21.

Import the modules themselves (``from genmodels.world_models.memory import MDNRNN``); this
package file imports nothing heavy.
"""
