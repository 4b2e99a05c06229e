"""Shared fixtures for the survival tests (the suite-wide conftest sets one torch thread)."""

from __future__ import annotations

import warnings

import pytest


@pytest.fixture(autouse=True, scope="module")
def _quiet_deprecations():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@pytest.fixture(scope="module")
def whas500_split():
    """whas500 preprocessed with statistics of a stratified 80 % training split."""
    from sklearn.model_selection import train_test_split

    from survival import Preprocessor, load_dataset

    data = load_dataset("whas500")
    train, test = train_test_split(range(500), test_size=0.2, random_state=0, stratify=data.y["event"])
    pre = Preprocessor().fit(data.X.iloc[train])
    return pre.transform(data.X.iloc[train]), data.y[train], pre.transform(data.X.iloc[test]), data.y[test]
