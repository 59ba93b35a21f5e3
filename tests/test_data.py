"""course_lib.utils.data: TensorDataset, default_collate and DataLoader (batching, seeded shuffling, drop_last)."""
import numpy as np
import pytest

import course_lib
from course_lib.utils.data import DataLoader, Dataset, TensorDataset, default_collate


def _dataset(n=10):
    x = course_lib.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = course_lib.tensor(np.arange(n) * 10)
    return TensorDataset(x, y)


class Squares(Dataset):
    """A map-style dataset written by hand: sample i is (tensor [i, i²], label i % 3)."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return course_lib.tensor([float(i), float(i * i)]), i % 3


def test_tensor_dataset_items_and_length():
    ds = _dataset()
    assert len(ds) == 10
    x, y = ds[4]
    assert x.tolist() == [12.0, 13.0, 14.0] and y.item() == 40


def test_tensor_dataset_size_mismatch():
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(course_lib.zeros(5, 2), course_lib.zeros(4))


def test_batches_in_order_with_a_short_last_batch():
    loader = DataLoader(_dataset(), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [b[1].tolist() for b in batches] == [[0, 10, 20, 30], [40, 50, 60, 70], [80, 90]]
    x, y = batches[1]
    assert x.shape == (4, 3) and x.dtype is course_lib.float32 and y.dtype is course_lib.int64
    np.testing.assert_array_equal(x.numpy(), np.arange(12, 24).reshape(4, 3))


def test_drop_last():
    loader = DataLoader(_dataset(), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[1].tolist() for b in loader] == [[0, 10, 20, 30], [40, 50, 60, 70]]
    assert len(DataLoader(_dataset(8), batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(_dataset(3), batch_size=4, drop_last=True)) == 0
    assert len(DataLoader(_dataset(3), batch_size=4)) == 1


def _order(loader):
    return [int(v) // 10 for b in loader for v in b[1].tolist()]


def test_shuffle_is_a_permutation_reproducible_with_a_seed():
    a = _order(DataLoader(_dataset(), batch_size=3, shuffle=True, generator=np.random.default_rng(0)))
    b = _order(DataLoader(_dataset(), batch_size=3, shuffle=True, generator=np.random.default_rng(0)))
    c = _order(DataLoader(_dataset(), batch_size=3, shuffle=True, generator=np.random.default_rng(1)))
    assert sorted(a) == list(range(10))
    assert a == b
    assert a != c
    assert a == np.random.default_rng(0).permutation(10).tolist()


def test_each_pass_draws_a_new_order():
    loader = DataLoader(_dataset(), batch_size=5, shuffle=True, generator=np.random.default_rng(0))
    first, second = _order(loader), _order(loader)
    assert sorted(first) == sorted(second) == list(range(10)) and first != second


def test_shuffle_without_generator_follows_manual_seed():
    loader = DataLoader(_dataset(), batch_size=10, shuffle=True)
    course_lib.manual_seed(5)
    a = _order(loader)
    course_lib.manual_seed(5)
    b = _order(loader)
    course_lib.manual_seed(6)
    c = _order(loader)
    assert a == b != c


def test_rows_stay_together_when_shuffled():
    for x, y in DataLoader(_dataset(), batch_size=4, shuffle=True, generator=np.random.default_rng(2)):
        np.testing.assert_array_equal(x.numpy()[:, 0], y.numpy() // 10 * 3)


def test_batches_are_copies():
    ds = _dataset()
    x, _ = next(iter(DataLoader(ds, batch_size=2)))
    x[0, 0] = 100.0
    assert ds.tensors[0][0, 0].item() == 0.0


def test_custom_dataset_is_collated_like_the_fast_path():
    sq = Squares()
    loader = DataLoader(sq, batch_size=4)
    batches = list(loader)
    assert len(batches) == 3
    x, y = batches[0]
    assert x.tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 4.0], [3.0, 9.0]] and y.tolist() == [0, 1, 2, 0]
    assert y.dtype is course_lib.int64
    # the generic path (item by item, then stack) gives the same batches as the TensorDataset gather
    ds = TensorDataset(*(course_lib.stack([sq[i][0] for i in range(10)]), course_lib.tensor([i % 3 for i in range(10)])))
    for (a, b), (c, d) in zip(DataLoader(sq, 3, shuffle=True, generator=np.random.default_rng(4)),
                              DataLoader(ds, 3, shuffle=True, generator=np.random.default_rng(4))):
        assert a.tolist() == c.tolist() and b.tolist() == d.tolist()


def test_default_collate_kinds():
    out = default_collate([{"x": np.ones(2), "n": 1.5}, {"x": np.zeros(2), "n": 2.5}])
    assert out["x"].shape == (2, 2) and out["n"].dtype is course_lib.float64
    assert default_collate([True, False]).dtype is course_lib.bool
    assert default_collate(["a", "b"]) == ["a", "b"]
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object()])


def test_collate_fn_is_used():
    loader = DataLoader(_dataset(), batch_size=5, collate_fn=lambda samples: len(samples))
    assert list(loader) == [5, 5]


def test_gradient_flows_through_batches_of_a_tensor_that_requires_grad():
    w = course_lib.ones(4, 2, requires_grad=True)
    (x,) = next(iter(DataLoader(TensorDataset(w), batch_size=2, shuffle=True, generator=np.random.default_rng(0))))
    x.sum().backward()
    assert w.grad.sum().item() == 4.0


@pytest.mark.parametrize("bs", [0, -1, 2.5, True])
def test_bad_batch_size(bs):
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        DataLoader(_dataset(), batch_size=bs)
