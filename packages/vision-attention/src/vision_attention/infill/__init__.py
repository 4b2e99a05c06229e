"""FIDO: explaining a classifier by generative in-fill (Chang et al. 2019).

Modules: `config` (torch-free), `data` (a digit pasted at a random place on a cluttered, textured canvas,
with its box), `models` (the canvas classifier and the small in-painting network), `infills` (mean, blur,
uniform noise and generative in-fills, and the composition ``keep * x + (1 - keep) * fill``), `fido`
(concrete dropout masks optimised for the SSR / SDR objectives), `metrics` (mass inside the box, pointing,
the saliency metric of Dabkowski & Gal), `study` (train both networks, explain the test canvases with every
in-fill and objective). Nothing is imported here, so ``import vision_attention.infill`` stays cheap.
"""
