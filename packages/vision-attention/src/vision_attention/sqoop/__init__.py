"""SQOOP (Bahdanau et al. 2019): the question splits, scenes, the NMN / FiLM / MAC models, layout induction, the study."""
