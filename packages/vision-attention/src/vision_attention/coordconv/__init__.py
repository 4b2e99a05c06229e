"""CoordConv (Liu et al., NeurIPS 2018): the layer, the Not-so-Clevr data and the coordinate tasks.

Modules: `config` (torch-free), `layer` (`AddCoords`, `CoordConv2d`), `data` (Not-so-Clevr squares and
splits), `models` (CoordConv and plain-conv networks for the three tasks), `tasks` (train and score one
task). Nothing is imported here, so ``import vision_attention.coordconv`` stays cheap.
"""
