"""The tutorial's headline: 784-100-200-10, batch 32, lr 0.1, 25 epochs reaches ~98% on validation."""

import pytest

from core.config import parse_query
from core.training import train


@pytest.mark.slow
def test_tutorial_config_reaches_978_validation_accuracy():
    config = parse_query("dataset=mnist&hidden=100,200&lr=0.1&batch_size=32&epochs=25&seed=42")
    results = list(train(config))
    assert len(results) == 25
    assert results[-1].val_acc >= 0.978, [round(r.val_acc, 4) for r in results]
    assert results[-1].test_acc >= 0.975
    assert results[-1].train_loss < results[0].train_loss / 5
