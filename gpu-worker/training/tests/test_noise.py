"""Philox4x32-10 known answers (Random123 kat_vectors) and the shape of the normal stream."""

import numpy as np

from ditserve_train.noise import philox4x32_10, standard_normal


def test_philox_known_answer_zero_key_zero_counter():
    assert [hex(v) for v in philox4x32_10(0, 1)[0]] == ["0x6627e8d5", "0xe169c58d", "0xbc57ac4c", "0x9b00dbd8"]


def test_normals_are_standard_and_prefix_stable():
    z = standard_normal(42, 200_000)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert np.array_equal(standard_normal(42, 7), z[:7])
    assert not np.array_equal(standard_normal(43, 7), z[:7])
