"""Shared fixtures: one torch thread while these tests run (restored afterwards).

The fits here are small; on a busy 2-core machine a single thread is several times faster than
two threads competing with other processes.
"""

from __future__ import annotations

import warnings

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def whas500_split():
    """whas500 preprocessed with statistics of a stratified 80 % training split."""
    from sklearn.model_selection import train_test_split

    from survival.data import Preprocessor, load_dataset

    data = load_dataset("whas500")
    train, test = train_test_split(range(500), test_size=0.2, random_state=0, stratify=data.y["event"])
    pre = Preprocessor().fit(data.X.iloc[train])
    return pre.transform(data.X.iloc[train]), data.y[train], pre.transform(data.X.iloc[test]), data.y[test]
