"""The fixed evaluation set that decides promotions: stable, and seen by no training."""

from __future__ import annotations

from kunlun_nlp.document import content_id
from training.datasets import REAL_SETS, SHARED_DATA, load_realtrain, load_training_sets
from training.evaluation_set import evaluation_set, fingerprint, is_held_back


def test_no_training_set_holds_an_evaluation_text():
    held = {content_id(e.text) for e in evaluation_set()}
    training = [e for examples in load_training_sets().values() for e in examples]
    assert held and training
    assert not [e.id for e in training if content_id(e.text) in held]
    assert not any(is_held_back(e.text) for e in training)


def test_a_fifth_of_each_real_set_is_held_back_and_the_set_is_stable():
    for name in REAL_SETS:
        if not (SHARED_DATA / name).exists():
            continue
        everything = load_realtrain(name=name, split="all")
        held = load_realtrain(name=name, split="test")
        assert 0.12 < len(held) / len(everything) < 0.28, (name, len(held), len(everything))
        assert len(held) + len(load_realtrain(name=name)) == len(everything)
    assert fingerprint(evaluation_set()) == fingerprint(evaluation_set())
    assert is_held_back("  " + evaluation_set()[-1].text.replace(" ", "\n", 3))  # by content, re-wrapped too


def test_branch_weights_round_trip(tmp_path):
    import torch

    from kunlun_nlp.vocabulary import DOMAIN_LABELS, SUBTYPE_LABELS
    from training.branch_model import BranchedEncoder, load_branch_weights, save_branch_weights

    torch.manual_seed(1)
    trained = BranchedEncoder(len(DOMAIN_LABELS), len(SUBTYPE_LABELS), tuned_layers=1)
    torch.nn.init.normal_(trained.domain_head.weight)
    save_branch_weights(trained, tmp_path / "branch.pt")
    fresh = BranchedEncoder(len(DOMAIN_LABELS), len(SUBTYPE_LABELS), tuned_layers=1)
    assert not torch.allclose(fresh.domain_head.weight, trained.domain_head.weight)
    load_branch_weights(fresh, tmp_path / "branch.pt")
    assert torch.allclose(fresh.domain_head.weight, trained.domain_head.weight, atol=1e-2)  # stored in fp16
    wider = BranchedEncoder(len(DOMAIN_LABELS), len(SUBTYPE_LABELS), tuned_layers=2)
    try:
        load_branch_weights(wider, tmp_path / "branch.pt")
    except ValueError as exc:
        assert "tuned layers" in str(exc)
    else:
        raise AssertionError("a branch of another depth was loaded")
