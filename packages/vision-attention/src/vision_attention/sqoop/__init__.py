"""SQOOP (Bahdanau et al. 2019): the question splits and scene layouts. Models and the study are not built yet."""
