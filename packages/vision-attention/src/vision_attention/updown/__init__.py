"""Bottom-up and top-down attention for captioning and VQA (Anderson et al., CVPR 2018).

Modules: `config` (torch-free), `scenes` (a CLEVR-like synthetic scene generator: images, boxes,
captions, questions), `features` (the released bottom-up TSV format, a CNN encoder, region features
from boxes and grid features), `text` (vocabularies), `metrics` (BLEU and CIDEr-D), `captioner`
(the two-LSTM top-down captioner, greedy/beam decoding, self-critical training), `vqa` (the gated-tanh
VQA model with soft scores), `coco` (COCO captions and VQA v2 JSON loaders), `experiment` (bottom-up vs
grid features). Nothing is imported here.
"""
