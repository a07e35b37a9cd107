"""fp8_select: the choice of FP8 groups for an error budget (no torch needed)."""

from ditserve_train.fp8_select import group_of, select


def test_select_spends_the_error_where_it_buys_most():
    error2 = {"a": 1e-4, "b": 1e-4, "c": 3e-4}
    cost = {"a": 1, "b": 4, "c": 6}
    # b and c save the most per unit of error; a and c together would break the budget
    assert select(error2, cost, target=0.02) == ["b", "c"]
    assert select(error2, cost, target=0.001) == []


def test_both_mlp_layers_are_one_group():
    assert group_of("blocks.3.image.fc1") == group_of("blocks.3.image.fc2") == "blocks.3.image.mlp"
    assert group_of("blocks.3.context.qkv") == "blocks.3.context.qkv"
