"""Unsupervised meta-learning: CACTUs (Hsu, Levine & Finn 2019) with MAML and ProtoNets.

- `fewshot`: class splits, N-way K-shot task sampling, 95 % confidence intervals, an Omniglot loader.
- `protonets`: prototypical networks (Snell et al. 2017).
- `maml`: model-agnostic meta-learning (Finn et al. 2017) on a functional MLP.
- `cactus`: k-means partitions of an embedding, tasks from clusters, meta-training on them,
  and the few-shot evaluation with its baselines.
"""
