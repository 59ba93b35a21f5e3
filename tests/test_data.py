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
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):  # PyTorch asserts it
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


# -- the keyword arguments training scripts pass -------------------------------------------------------------

def test_worker_and_memory_arguments_are_accepted():
    ds = _dataset()
    ref = [b.tolist() for _, b in DataLoader(ds, batch_size=4)]
    for kw in (dict(num_workers=0), dict(num_workers=2, pin_memory=True), dict(num_workers=4, persistent_workers=True,
               prefetch_factor=2, worker_init_fn=lambda i: None, timeout=5)):
        loader = DataLoader(ds, batch_size=4, **kw)
        assert [b.tolist() for _, b in loader] == ref  # loaded in the main process, same batches
    loader = DataLoader(ds, batch_size=4, shuffle=True, num_workers=2, pin_memory=True)
    assert loader.num_workers == 2 and loader.pin_memory is True


@pytest.mark.parametrize("kw, message", [
    (dict(num_workers=-1), "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing."),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(timeout=-1), "timeout option should be non-negative"),
])
def test_bad_worker_arguments_raise_like_pytorch(kw, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        DataLoader(_dataset(), **kw)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(3)), **kw)


class NumpyScalars(Dataset):
    """A dataset of NumPy scalars, as many hand-written datasets return."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return np.float32(i) / 2, np.int32(i), np.float64(i), np.bool_(i % 2), np.array([i, i], dtype=np.float32)


def test_numpy_scalars_keep_their_dtype_like_pytorch():
    x32, i32, x64, flag, arr = next(iter(DataLoader(NumpyScalars(), batch_size=3)))
    assert x32.dtype is course_lib.float32 and x32.tolist() == [0.0, 0.5, 1.0]
    assert i32.dtype is course_lib.int32 and x64.dtype is course_lib.float64 and flag.dtype is course_lib.bool
    assert arr.dtype is course_lib.float32 and arr.shape == (3, 2)
    torch = pytest.importorskip("torch")
    batch = torch.utils.data.default_collate([NumpyScalars()[i] for i in range(3)])
    assert [str(t.dtype).split(".")[1] for t in batch] == [t.dtype.name for t in (x32, i32, x64, flag, arr)]


def test_collate_fn_builds_the_batch():
    def pad_collate(samples):
        xs, ys = zip(*samples)
        return course_lib.stack(list(xs)) * 2, list(ys)

    xb, yb = next(iter(DataLoader(Squares(), batch_size=4, collate_fn=pad_collate, num_workers=2)))
    assert xb.shape == (4, 2) and xb[3].tolist() == [6.0, 18.0] and yb == [0, 1, 2, 0]


def test_tensor_dataset_refuses_as_pytorch_does():
    """PyTorch 2.13 asserts the sizes (AssertionError) and indexes dim 0 of each tensor (IndexError for a 0-d one)."""
    with pytest.raises(AssertionError, match=r"Size mismatch between tensors.*\[3, 4\]"):
        TensorDataset(course_lib.ones(3), course_lib.ones(4))
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        TensorDataset(course_lib.ones(3), course_lib.tensor(1.))


def test_shuffling_an_empty_dataset_is_refused_when_the_loader_is_built():
    empty = TensorDataset(course_lib.ones(0, 2))
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        DataLoader(empty, shuffle=True)
    assert list(DataLoader(empty)) == [] and len(DataLoader(empty, batch_size=3)) == 0  # in order: fine, as PyTorch
