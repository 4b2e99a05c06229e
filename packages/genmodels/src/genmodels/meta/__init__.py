"""Unsupervised meta-learning: CACTUs (Hsu, Levine & Finn 2019) with MAML and ProtoNets, and a
meta-learned unsupervised update rule (Metz et al. 2019).

- `fewshot`: class splits, N-way K-shot task sampling, 95 % confidence intervals, an Omniglot loader.
- `protonets`: prototypical networks (Snell et al. 2017).
- `maml`: model-agnostic meta-learning (Finn et al. 2017) on a functional MLP.
- `cactus`: k-means partitions of an embedding, tasks from clusters, meta-training on them,
  and the few-shot evaluation with its baselines.
- `update_rule`: a neuron-local learned update rule for base MLPs, meta-trained by truncated
  backprop through unsupervised steps for few-shot ridge readouts; random-feature, autoencoder
  baselines.
"""
