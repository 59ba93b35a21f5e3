"""PyTorch habits that must carry over: each case here was found by differential fuzzing against PyTorch 2.13, where
course_lib gave another answer, another dtype, or another kind of error. The expected values come from the math
(or from PyTorch's documented behaviour), so these run without PyTorch; test_autograd_torch.py and friends compare
with PyTorch itself when it is installed."""
import copy
import math
import pickle

import numpy as np
import pytest

import course_lib as cl
from course_lib import autograd


# -- memory and layout ----------------------------------------------------------------

def test_a_result_laid_out_column_by_column_keeps_sharing_memory_with_its_aliases():
    y = cl.arange(6.).view(2, 3).t() * 1  # NumPy keeps the transposed layout, as PyTorch does
    d, n = y.detach(), y.numpy()
    assert y.stride() == (1, 3) and not y.is_contiguous()
    y[0, 0] = 100.
    y[1] = 0.
    assert d[0, 0].item() == 100. and n[0, 0] == 100.
    assert n[1].tolist() == [0., 0.] and d[1].tolist() == [0., 0.]
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        y.view(-1)  # as in PyTorch: not contiguous
    assert y.reshape(-1).tolist() == [100., 3., 0., 0., 2., 5.]


def test_from_numpy_of_a_fortran_array_shares_memory():
    a = np.asfortranarray(np.zeros((2, 3), np.float32))
    t = cl.from_numpy(a)
    t[0, 1] = 5.
    assert a[0, 1] == 5. and t.stride() == (1, 2)


# -- indexing -------------------------------------------------------------------------

def test_a_0d_integer_tensor_indexes_like_an_int_so_writes_land():
    x = cl.zeros(3, 2)
    for i in cl.arange(3):
        x[i][0] = 1.
        x[i].add_(10)
    assert x.tolist() == [[11., 10.]] * 3
    y = cl.arange(6.).view(2, 3)
    y[y.sum(1).argmax()].zero_()
    assert y.tolist() == [[0., 1., 2.], [0., 0., 0.]]
    assert cl.arange(24.).view(2, 3, 4)[cl.tensor(1)].storage_offset() == 12


def test_ints_are_applied_before_tensor_indices_as_in_pytorch():
    x = cl.arange(24.).view(2, 3, 4)
    ref = np.arange(24.).reshape(2, 3, 4)
    assert x[0, :, [1, 2]].shape == (3, 2)  # NumPy would give (2, 3)
    assert x[0, :, [1, 2]].tolist() == ref[0][:, [1, 2]].tolist()
    m = cl.arange(18.).view(2, 3, 3)
    assert m[-1, :-1, cl.tensor([True, False, True])].tolist() == [[9., 11.], [12., 14.]]
    assert x[..., 0, [1, 0]].shape == (2, 2) and x[[1, 0], ..., 0].shape == (2, 3)
    x[0, :, [1, 2]] = cl.tensor([[1., 2.], [3., 4.], [5., 6.]])
    assert x[0].tolist() == [[0., 1., 2., 3.], [4., 3., 4., 7.], [8., 5., 6., 11.]]


def test_ints_before_tensor_indices_keep_the_gradient_right():
    w = cl.arange(24., requires_grad=True)
    x = w.view(2, 3, 4)
    (x[1, :, [0, 0, 3]] * cl.tensor([1., 2., 3.])).sum().backward()
    expected = np.zeros((2, 3, 4))
    expected[1, :, 0] = 3.  # index 0 picked twice, weights 1 and 2
    expected[1, :, 3] = 3.
    assert np.array_equal(w.grad.numpy().reshape(2, 3, 4), expected)


def test_empty_list_index_selects_nothing():
    x = cl.arange(3.)
    assert x[[]].shape == (0,)
    x[[]] = 1.
    assert x.tolist() == [0., 1., 2.]


def test_setitem_shape_mismatch_is_a_runtime_error_naming_both_shapes():
    x = cl.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[3, 4\] cannot be broadcast "
                                           r"to indexing result of shape \[2, 4\]"):
        x[cl.tensor([0, 1])] = cl.ones(3, 4)
    with pytest.raises(TypeError, match="NoneType"):
        x[0] = None


# -- creation -------------------------------------------------------------------------

def test_arange_casts_bounds_to_integers_first_and_checks_the_step_sign():
    assert cl.arange(0, 5, 1.5, dtype=cl.int64).tolist() == [0, 1, 2, 3, 4]
    assert cl.arange(0.5, 4, 1.5, dtype=cl.int64).tolist() == [0, 1, 2, 3]
    assert cl.arange(0.19, -3.0, -1, dtype=cl.int64).tolist() == [0, -1, -2]
    assert cl.arange(cl.tensor(3)).dtype is cl.int64
    assert cl.arange(0, 0).shape == (0,)
    for args in [(1, 0), (-3,), (0, 5, -1)]:
        with pytest.raises(RuntimeError, match="upper bound and lower bound inconsistent with step sign"):
            cl.arange(*args)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        cl.arange(0, 3, 0.25, dtype=cl.int64)


def test_linspace_with_an_integer_dtype_truncates_the_ends_first():
    assert cl.linspace(2.9, -4.72, 3, dtype=cl.int64).tolist() == [2, -1, -4]
    with pytest.raises(RuntimeError, match="non-negative"):
        cl.linspace(0, 1, -1)


@pytest.mark.parametrize("make", [lambda: cl.zeros(-1), lambda: cl.ones(2, -3), lambda: cl.full((-2,), 1.),
                                  lambda: cl.rand(-1), lambda: cl.randn(2, -1), lambda: cl.randint(3, (-1,))])
def test_negative_sizes_are_runtime_errors(make):
    with pytest.raises(RuntimeError, match="negative dimension"):
        make()


def test_random_floats_refuse_integer_dtypes():
    with pytest.raises(NotImplementedError, match="Long|int64"):
        cl.rand(2, dtype=cl.int64)


def test_python_and_numpy_scalar_types_give_pytorchs_dtypes():
    assert cl.zeros(2, dtype=float).dtype is cl.float64
    assert cl.ones(2).to(float).dtype is cl.float64 and cl.ones(2).to(int).dtype is cl.int64
    assert cl.float is cl.float32 and cl.int is cl.int32
    assert cl.tensor(np.float64(1.5)).dtype is cl.float64
    assert cl.tensor([np.float64(1.)]).dtype is cl.float64
    assert cl.tensor([1., 2.]).dtype is cl.float32
    assert cl.tensor(np.float32(2)).dtype is cl.float32


def test_repr_of_an_empty_tensor_shows_its_size():
    assert repr(cl.zeros(2, 0)) == "tensor([], size=(2, 0))"
    assert repr(cl.zeros(0)) == "tensor([])"
    assert repr(cl.zeros(0, dtype=cl.float64)) == "tensor([], dtype=course_lib.float64)"


# -- writes ---------------------------------------------------------------------------

def test_inplace_errors_are_pytorchs():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        cl.tensor([1, 2]).div_(2)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        x = cl.tensor([1, 2])
        x += 0.5
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        cl.zeros(3).add_(cl.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(4\)"):
        cl.zeros(3, dtype=cl.int64).sub_(cl.ones(3, 4))


def test_fill_and_copy_check_their_argument():
    with pytest.raises(TypeError):
        cl.zeros(2).fill_(None)
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor"):
        cl.zeros(2).fill_(cl.tensor([3.]))
    assert cl.zeros(2).fill_(cl.tensor(3.)).tolist() == [3., 3.]
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        cl.zeros(2, 3).copy_(cl.ones(1, 2, 3))
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        cl.zeros(1, 3).expand(2, 3).copy_(cl.tensor(3.))
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        cl.zeros(1, 3).expand(2, 3)[:, 0] = 1.
    assert cl.zeros(1, 3).expand(2, 3).fill_(1.).tolist() == [[1.] * 3] * 2  # allowed, as in PyTorch


# -- shapes and dims ------------------------------------------------------------------

def test_dim_checks():
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times"):
        cl.zeros(1, 3).squeeze((0, 0))
    with pytest.raises(IndexError, match="Dimension out of range"):
        cl.tensor(1.).transpose(0, 2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        cl.tensor(1.).flatten(1)
    assert cl.tensor(1.).flatten().shape == (1,)


def test_degenerate_cat_stack_split_chunk_raise_runtime_errors():
    with pytest.raises(RuntimeError, match="zero-dimensional tensor"):
        cl.cat([cl.tensor([1.]), cl.tensor(2.)])
    with pytest.raises(RuntimeError, match="non-empty"):
        cl.stack([])
    with pytest.raises(RuntimeError, match="at least a 1-dimensional"):
        cl.tensor(1.).split(1)
    with pytest.raises(RuntimeError, match="at least a 1-dimensional"):
        cl.tensor(1.).chunk(1)


def test_comparing_with_none_or_a_string_is_just_false():
    x = cl.tensor([1.])
    assert (x == None) is False and (x != None) is True  # noqa: E711
    assert x in [None, x] and not (x == "a")


def test_bool_negation_and_subtraction_are_refused_like_pytorch():
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        -cl.tensor([True])
    with pytest.raises(RuntimeError, match="two bool tensors"):
        cl.tensor([True]) - cl.tensor([False])
    with pytest.raises(RuntimeError, match="with a bool tensor"):
        cl.tensor([1.]) - True


def test_sum_over_an_empty_dim_tuple_reduces_everything():
    assert cl.ones(2, 3).sum(dim=()).item() == 6. and cl.ones(2, 3).mean(dim=[]).item() == 1.


# -- PyTorch's function forms and return types ---------------------------------------

def test_function_forms_and_named_max():
    logits = cl.tensor([[1., 3., 2.], [5., 0., 1.]])
    values, predicted = cl.max(logits, 1)
    assert predicted.tolist() == [1, 0] and values.tolist() == [3., 5.]
    assert logits.max(1).indices.tolist() == [1, 0] and logits.min(dim=1).values.tolist() == [1., 0.]
    assert cl.max(logits).item() == 5. and cl.min(logits).item() == 0.
    assert cl.reshape(logits, (3, 2)).shape == (3, 2) and cl.transpose(logits, 0, 1).shape == (3, 2)
    assert cl.unsqueeze(logits, 0).shape == (1, 2, 3) and cl.numel(logits) == 6
    assert abs(cl.std(logits).item() - np.std(logits.numpy(), ddof=1)) < 1e-6
    assert max(3, 4) == 4  # the builtins are untouched outside course_lib


def test_format_spec_on_a_0d_tensor():
    assert f"{cl.tensor(2.):.3f}" == "2.000" and f"{cl.tensor(7)}" == "7"
    with pytest.raises(TypeError, match="unsupported format string"):
        format(cl.tensor([2.]), ".3f")


def test_deepcopy_and_pickle_keep_values_class_and_grad():
    w = cl.nn.Parameter(cl.tensor([1., 2.]))
    w.grad = cl.tensor([0.5, 0.5])
    w2 = copy.deepcopy(w)
    # a copied Parameter starts without a gradient, as in PyTorch
    assert type(w2) is type(w) and w2.requires_grad and w2.tolist() == [1., 2.] and w2.grad is None
    w2.data.mul_(10)
    assert w.tolist() == [1., 2.]  # a copy, not a view
    pair = copy.deepcopy([w, w])
    assert pair[0] is pair[1]  # one tensor copied once
    w3 = pickle.loads(pickle.dumps(w))
    assert type(w3) is type(w) and w3.tolist() == [1., 2.] and w3.requires_grad
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(w * 2)


# -- autograd -------------------------------------------------------------------------

def test_gradients_keep_their_inputs_dtype():
    x = cl.ones(2, 2, requires_grad=True)
    w = cl.ones(2, 2, requires_grad=True)
    (x @ w).max().backward()  # max's tie-sharing weights once came out float64 and broke matmul's backward
    assert x.grad.dtype is cl.float32 and w.grad.dtype is cl.float32
    a = cl.tensor([1., 5.], requires_grad=True)
    cl.maximum(a, cl.tensor([2., 5.])).sum().backward()
    assert a.grad.dtype is cl.float32 and a.grad.tolist() == [0., 0.5]
    b = cl.tensor([1., 2.], requires_grad=True)
    (b * cl.tensor([3., 4.], dtype=cl.float64)).sum().backward()
    assert b.grad.dtype is cl.float32 and b.grad.tolist() == [3., 4.]
    c = cl.tensor(2., dtype=cl.float64, requires_grad=True)
    (c * cl.ones(3)).sum().backward()
    assert c.grad.dtype is cl.float64 and c.grad.item() == 3.


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning")  # PyTorch warns too
def test_var_and_std_gradients_at_their_edges():
    x = cl.tensor([2.], requires_grad=True)
    x.var().backward()
    assert np.isnan(x.grad.item())  # 0 degrees of freedom: nan, not a ZeroDivisionError
    y = cl.tensor([3., 3., 3.], requires_grad=True)
    y.std().backward()
    assert y.grad.tolist() == [0., 0., 0.]  # std 0: gradient 0 (PyTorch's choice), not 0/0
    z = cl.tensor([1., 2., 4.], dtype=cl.float64, requires_grad=True)
    z.std().backward()
    d = z.detach().numpy()
    expected = (d - d.mean()) / ((len(d) - 1) * d.std(ddof=1))
    assert np.allclose(z.grad.numpy(), expected)


def test_pow_with_exponent_zero_has_gradient_zero():
    x = cl.tensor([0., 1.], requires_grad=True)
    (x ** 0).sum().backward()
    assert x.grad.tolist() == [0., 0.]
    y = cl.tensor([0., 2.], requires_grad=True)
    (y ** cl.tensor([0, 2])).sum().backward()
    assert y.grad.tolist() == [0., 4.]


def test_relu_of_minus_infinity_is_zero():
    x = cl.tensor([-float("inf"), -1., 2.], requires_grad=True)
    y = x.relu()
    y.sum().backward()
    assert y.tolist() == [0., 0., 2.] and x.grad.tolist() == [0., 0., 1.]


def test_amax_over_a_dim_shares_ties_but_max_dim_picks_one():
    x = cl.tensor([[1., 3., 3.]], requires_grad=True)
    x.amax(1).sum().backward()
    assert x.grad.tolist() == [[0., 0.5, 0.5]]
    x.grad = None
    x.max(1).values.sum().backward()
    assert sorted(x.grad.tolist()[0]) == [0., 0., 1.]


def test_clamp_with_tensor_bounds_gives_the_bounds_their_gradient():
    x = cl.tensor([0., 2., 5.], requires_grad=True)
    lo = cl.tensor([0.5, 0.5, 0.5], requires_grad=True)
    hi = cl.tensor([4., 4., 4.], requires_grad=True)
    x.clamp(min=lo, max=hi).sum().backward()
    assert x.grad.tolist() == [0., 1., 0.] and lo.grad.tolist() == [1., 0., 0.] and hi.grad.tolist() == [0., 0., 1.]


def test_second_backward_is_refused_for_ops_that_keep_masks():
    for op in (lambda x: x.relu(), lambda x: x.clamp(0, 1.5), lambda x: x.max(0).values,
               lambda x: cl.maximum(x, cl.zeros(2))):
        x = cl.tensor([1., 2.], requires_grad=True)
        y = op(x).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward()


def test_retained_grads_are_copies():
    x = cl.tensor([1., 2.], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.sum().backward()
    y.grad.mul_(10)  # its own memory, not a stride-0 view of the seed
    assert y.grad.tolist() == [10., 10.] and x.grad.tolist() == [2., 2.]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5., 5.]


def test_one_gradient_reaching_a_leaf_along_several_paths_is_summed_once_per_path():
    x = cl.tensor(1., requires_grad=True)
    ((x + x) + x).backward()
    assert x.grad.item() == 3.
    a = cl.tensor([1., 2.], requires_grad=True)
    (((a + a) + a) ** 2).sum().backward()
    assert a.grad.tolist() == [18., 36.]  # d/da (3a)^2 = 18a
    b = cl.tensor([1., 1.], requires_grad=True)
    c = cl.tensor([2., 2.], requires_grad=True)
    for _ in range(2):
        ((b + c) * 2).sum().backward()
    assert b.grad.tolist() == [4., 4.] and c.grad.tolist() == [4., 4.]


def test_leaves_never_share_gradient_memory_with_each_other_or_the_caller():
    a = cl.tensor([1., 2.], requires_grad=True)
    b = cl.tensor([3., 4.], requires_grad=True)
    g = cl.tensor([1., 1.])
    (a + b).backward(g)  # Add hands the same gradient to a and b
    a.grad.zero_()
    assert b.grad.tolist() == [1., 1.] and g.tolist() == [1., 1.]
    (a + b).backward(g)
    assert a.grad.tolist() == [1., 1.] and b.grad.tolist() == [2., 2.] and g.tolist() == [1., 1.]


def test_data_has_its_own_version_counter_but_detach_shares_it():
    x = cl.tensor([1., 2., 3.], requires_grad=True)
    y = x * x
    x.data.mul_(2)  # invisible to autograd, as in PyTorch: backward uses the new values
    y.sum().backward()
    assert x.grad.tolist() == [4., 8., 12.]
    z = cl.tensor([1., 2.], requires_grad=True)
    w = z * z
    z.detach().mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()


def test_reductions_softmax_and_cat_of_transposed_inputs_are_c_contiguous_but_clone_keeps_the_layout():
    x = cl.arange(24.).view(2, 3, 4)
    assert x.permute(2, 0, 1).sum(1).is_contiguous()
    assert x.permute(2, 0, 1).sum(1).view(12).tolist() == np.arange(24.).reshape(2, 3, 4).transpose(2, 0, 1).sum(1).reshape(12).tolist()
    m = cl.arange(6.).view(2, 3)
    assert m.t().softmax(1).is_contiguous() and m.t().log_softmax(1).is_contiguous()
    assert cl.cat([m.t(), m.t()]).is_contiguous() and cl.stack([m.t(), m.t()]).is_contiguous()
    assert m.t().clone().stride() == (1, 3) and m.t().contiguous().stride() == (2, 1)


def test_a_transposed_result_on_the_sim_device_keeps_sharing_with_its_aliases():
    from course_lib import simdevice
    simdevice.register_sim_device()
    xs = cl.tensor(np.arange(12., dtype=np.float32).reshape(3, 4)).to("sim")
    y = xs.t() * 2
    d = y.detach()
    y[1].fill_(-1.)
    assert d.cpu()[1].tolist() == [-1., -1., -1.]
    assert y.stride() == (1, 4)


def test_no_grad_works_as_a_bare_decorator():
    @cl.no_grad
    def f(t):
        return t * 2
    assert not f(cl.ones(1, requires_grad=True)).requires_grad
    assert f.__name__ == "f"


def test_custom_functions_tuple_outputs_inputs_returned_and_needs_input_grad():
    class Two(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    x = cl.tensor([1., 2.], requires_grad=True)
    a, b = Two.apply(x)
    (a + b).sum().backward()
    assert x.grad.tolist() == [5., 5.]

    class Same(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.seen = ctx.needs_input_grad
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = cl.tensor([1., 2.], requires_grad=True)
    y = Same.apply(x)
    assert y is not x and x.is_leaf and y.grad_fn is not None
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1., 1.]  # x itself was not rewired through Same
    y.sum().backward()
    assert x.grad.tolist() == [3., 3.]
    assert Same.apply(cl.tensor([1.])).tolist() == [1.]  # not recording: needs_input_grad is (False,)


def test_reduction_dim_checks():
    with pytest.raises(IndexError, match="Dimension out of range"):
        cl.tensor(2.).sum(1)
    assert cl.tensor(2.).sum(0).item() == 2. and cl.tensor(2.).sum(-1).item() == 2.
    with pytest.raises(IndexError, match=r"^max\(\): Expected reduction dim 1 to have non-zero size"):
        cl.zeros(2, 0).max(1)
    with pytest.raises(TypeError, match="logsumexp"):
        cl.tensor([1., 2.]).logsumexp(None)


def test_tensors_print_like_pytorch():
    assert repr(cl.tensor([-1., 2.])) == "tensor([-1.,  2.])"
    assert repr(cl.tensor([0.1234567, 100.5])) == "tensor([  0.1235, 100.5000])"
    assert repr(cl.tensor([True, True])) == "tensor([True, True])"
    assert repr(cl.tensor([True, False])) == "tensor([ True, False])"
    assert repr(cl.tensor([1, -200, 3])) == "tensor([   1, -200,    3])"
    assert repr(cl.tensor([0., 0.])) == "tensor([0., 0.])" and repr(cl.tensor(-0.5)) == "tensor(-0.5000)"
    assert repr(cl.tensor([float("nan"), 1.5])) == "tensor([   nan, 1.5000])"
    assert repr(cl.tensor([[1e-5, 1.], [float("nan"), float("inf")]])) == (
        "tensor([[1.0000e-05, 1.0000e+00],\n        [       nan,        inf]])")
    assert repr(cl.arange(1500.)) == ("tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.4970e+03, 1.4980e+03,\n"
                                      "        1.4990e+03])")
    assert repr(cl.arange(2000).reshape(2, 1000)) == ("tensor([[   0,    1,    2,  ...,  997,  998,  999],\n"
                                                      "        [1000, 1001, 1002,  ..., 1997, 1998, 1999]])")
    assert repr(cl.max(cl.tensor([[1., 3.]]), 1)) == ("course_lib.return_types.max(\nvalues=tensor([3.]),\n"
                                                      "indices=tensor([1]))")


def test_mse_loss_promotes_an_integer_target():
    x = cl.tensor([1., 2., 4.], requires_grad=True)
    loss = cl.nn.functional.mse_loss(x, cl.tensor([1, 2, 3]))
    loss.backward()
    assert abs(loss.item() - 1 / 3) < 1e-6 and np.allclose(x.grad.numpy(), [0., 0., 2 / 3])
    with pytest.raises(NotImplementedError, match="mse_cpu"):
        cl.nn.functional.mse_loss(cl.tensor([1, 2]), cl.tensor([1, 2]))


def test_results_pytorch_lays_out_in_c_order_can_be_viewed():
    conv = cl.nn.Conv2d(1, 4, 3)
    y = conv(cl.randn(2, 1, 8, 8)).relu()
    assert y.is_contiguous() and y.view(2, -1).shape == (2, 144)  # the classic flatten before a Linear
    lin = cl.nn.Linear(3, 2)
    lin(cl.randn(4, 3)).sum().backward()  # forward uses weight.t(): its gradient comes back transposed
    assert lin.weight.grad.is_contiguous() and lin.weight.grad.view(-1).shape == (6,)
    x = cl.randn(3, 2, requires_grad=True)
    (x.t() * 2).sum().backward()
    (x.t() * 3).sum().backward()
    assert x.grad.is_contiguous() and x.grad.tolist() == [[5., 5.]] * 3


def test_equal_allclose_isclose():
    a = cl.tensor([1., 2.])
    assert cl.equal(a, cl.tensor([1, 2])) and not a.equal(cl.tensor([1., 2., 3.]))
    assert cl.allclose(a, cl.tensor([1., 2.0000001])) and not a.allclose(cl.tensor([1., 2.1]))
    assert cl.isclose(a, cl.tensor([1., 3.])).tolist() == [True, False]
    with pytest.raises(RuntimeError, match="Float did not match Long"):
        cl.allclose(a, cl.tensor([1, 2]))


def test_optimizers_take_pytorchs_keyword_options():
    def run(make, steps=3):
        p = cl.tensor([1., -2.], dtype=cl.float64, requires_grad=True)
        opt = make([p])
        for _ in range(steps):
            opt.zero_grad()
            (p ** 2).sum().backward()
            opt.step()
        return p.detach().numpy(), opt

    up, opt = run(lambda ps: cl.optim.SGD(ps, lr=0.1, maximize=True, foreach=False, fused=None))
    assert np.allclose(up, np.array([1., -2.]) * 1.2 ** 3)  # gradient ascent on p^2: p <- p + 0.1 * 2p
    assert {"maximize", "foreach", "differentiable", "fused"} <= set(opt.param_groups[0])
    down, _ = run(lambda ps: cl.optim.Adam(ps, lr=0.1, maximize=True))
    assert (np.abs(down) > np.array([1., 2.])).all()
    # decoupled weight decay (AdamW): p <- p (1 - lr wd) first, then the Adam step on the plain gradient
    w_dec, _ = run(lambda ps: cl.optim.Adam(ps, lr=0.1, weight_decay=0.5, decoupled_weight_decay=True), steps=1)
    assert np.allclose(w_dec, np.array([1., -2.]) * (1 - 0.05) - 0.1 * np.sign([1., -2.]), atol=1e-6)
    with pytest.raises(NotImplementedError, match="differentiable"):
        cl.optim.SGD([cl.ones(1, requires_grad=True)], differentiable=True)


def test_clip_grad_norm_and_value():
    a = cl.tensor([3., 0.], requires_grad=True)
    b = cl.tensor([[0., 4.]], requires_grad=True)
    a.grad, b.grad = cl.tensor([3., 0.]), cl.tensor([[0., 4.]])
    norm = cl.nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert abs(norm.item() - 5.) < 1e-6  # sqrt(3^2 + 4^2), before clipping
    assert np.allclose(a.grad.numpy(), [0.6, 0.]) and np.allclose(b.grad.numpy(), [[0., 0.8]])
    assert abs(cl.nn.utils.clip_grad_norm_([a, b], 10.).item() - 1.) < 1e-5  # under the cap: unchanged
    assert np.allclose(a.grad.numpy(), [0.6, 0.], atol=1e-6)
    a.grad = cl.tensor([-3., 0.5])
    assert cl.nn.utils.clip_grad_norm_(a, 1.5, norm_type=float("inf")).item() == 3.
    assert np.allclose(a.grad.numpy(), [-1.5, 0.25], atol=1e-5)
    cl.nn.utils.clip_grad_value_(a, 0.3)
    assert np.allclose(a.grad.numpy(), [-0.3, 0.25], atol=1e-5)
    a.grad = cl.tensor([float("inf"), 0.])
    with pytest.raises(RuntimeError, match="non-finite"):
        cl.nn.utils.clip_grad_norm_(a, 1., error_if_nonfinite=True)


def test_adamw_and_clipping_match_pytorch_step_for_step():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4))
    data = [rng.standard_normal((5, 3)) for _ in range(20)]
    results = []
    for lib in (cl, torch):
        w = lib.tensor(w0.copy(), dtype=lib.float64, requires_grad=True)
        opt = lib.optim.AdamW([w], lr=0.05)
        for x in data:
            opt.zero_grad()
            ((lib.tensor(x) @ w) ** 2).sum().backward()
            lib.nn.utils.clip_grad_norm_([w], 2.0)
            opt.step()
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12)
    assert repr(cl.optim.AdamW([cl.ones(1, requires_grad=True)])) == repr(
        torch.optim.AdamW([torch.ones(1, requires_grad=True)]))


# PyTorch 2.13's grad_fn names for the same expressions (torch.Tensor.grad_fn.name()), so printed tensors read alike
_X, _Y, _V = (cl.randn(*s, requires_grad=True) for s in ((3, 4), (3, 4), (4,)))
_W, _B = cl.randn(5, 4, requires_grad=True), cl.randn(5, requires_grad=True)
NODE_NAMES = [
    (lambda: _X + _Y, "AddBackward0"), (lambda: _X + 2, "AddBackward0"), (lambda: _X - _Y, "SubBackward0"),
    (lambda: 2 - _X, "RsubBackward1"), (lambda: _X * _Y, "MulBackward0"), (lambda: _X / _Y, "DivBackward0"),
    (lambda: -_X, "NegBackward0"), (lambda: _X ** 2, "PowBackward0"), (lambda: (_X.abs() + 1) ** _Y, "PowBackward1"),
    (lambda: 2 ** _X, "PowBackward2"), (lambda: _X.exp(), "ExpBackward0"), (lambda: _X.relu(), "ReluBackward0"),
    (lambda: _X.sum(), "SumBackward0"), (lambda: _X.sum(0), "SumBackward1"), (lambda: _X.mean(), "MeanBackward0"),
    (lambda: _X.mean(0), "MeanBackward1"), (lambda: _X.var(), "VarBackward0"), (lambda: _X.max(), "MaxBackward1"),
    (lambda: _X.max(0)[0], "MaxBackward0"), (lambda: _X.min(0)[0], "MinBackward0"), (lambda: _X.amax(0), "AmaxBackward0"),
    (lambda: _X.amin(0), "AminBackward0"), (lambda: _X.clamp(0, 1), "ClampBackward1"),
    (lambda: _X.clamp(_Y), "ClampBackward0"), (lambda: _X.logsumexp(0), "LogsumexpBackward0"),
    (lambda: _X @ _W.t(), "MmBackward0"), (lambda: _X @ _V, "MvBackward0"), (lambda: _V @ _V, "DotBackward0"),
    (lambda: _X.t(), "TBackward0"), (lambda: _X.T, "PermuteBackward0"), (lambda: _X.transpose(0, 1), "TransposeBackward0"),
    (lambda: _X.view(12), "ViewBackward0"), (lambda: _X.reshape(12), "ViewBackward0"),
    (lambda: _X.t().reshape(12), "UnsafeViewBackward0"), (lambda: _X.unsqueeze(0), "UnsqueezeBackward0"),
    (lambda: _X[None].squeeze(0), "SqueezeBackward1"), (lambda: _X[None].squeeze(), "SqueezeBackward0"),
    (lambda: _V.expand(3, 4), "ExpandBackward0"), (lambda: _X[0], "SelectBackward0"), (lambda: _X[1:], "SliceBackward0"),
    (lambda: _X[:, 0], "SelectBackward0"), (lambda: _X[0, 1:], "SliceBackward0"), (lambda: _X[[0, 1]], "IndexBackward0"),
    (lambda: cl.cat([_X, _Y]), "CatBackward0"), (lambda: cl.stack([_X, _Y]), "StackBackward0"),
    (lambda: _X.split(2)[0], "SplitBackward0"), (lambda: _X.clone(), "CloneBackward0"),
    (lambda: _X.double(), "ToCopyBackward0"), (lambda: _X.masked_fill(_X > 0, 0.0), "MaskedFillBackward0"),
    (lambda: cl.nn.functional.linear(_X, _W, _B), "AddmmBackward0"), (lambda: cl.nn.functional.linear(_X, _W), "MmBackward0"),
    (lambda: cl.nn.functional.cross_entropy(_X, cl.tensor([0, 1, 2])), "NllLossBackward0"),
    (lambda: cl.nn.functional.pad(_X, (1, 1)), "ConstantPadNdBackward0"),
    (lambda: cl.nn.functional.max_pool2d(_X[None, None], 2), "MaxPool2DWithIndicesBackward0"),
]


@pytest.mark.parametrize("i", range(len(NODE_NAMES)))
def test_nodes_carry_pytorchs_names(i):
    make, name = NODE_NAMES[i]
    out = make()
    assert out.grad_fn.name() == name and f"grad_fn=<{name}>" in repr(out)


def test_a_function_of_your_own_is_named_like_pytorchs():
    class Square(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            return 2 * ctx.saved_tensors[0] * g

    y = Square.apply(cl.randn(2, requires_grad=True))
    assert y.grad_fn.name() == "SquareBackward" and next(iter(y.grad_fn.next_functions))[0].name() == \
        "torch::autograd::AccumulateGrad"


def test_integer_tensor_to_negative_integer_powers_follow_pytorch():
    """NumPy refuses int ** negative int; PyTorch gives the integer part of the true power: 1 for a base of 1, ±1 for
    -1 by the exponent's parity, 0 otherwise. A negative Python-int exponent is refused, as in PyTorch."""
    a = cl.tensor([2, 3, 1, -1, -1, 0, -2])
    b = cl.tensor([-1, 2, -3, -3, -2, 2, -2])
    assert (a ** b).tolist() == [0, 9, 1, -1, 1, 0, 0] and (a ** b).dtype == cl.int64
    assert (2 ** b).tolist() == [0, 4, 0, 0, 0, 4, 0] and (1 ** b).tolist() == [1] * 7
    assert (a.to(cl.int8) ** b).dtype == cl.int64
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        a ** -1
    assert (a ** 2).tolist() == [4, 9, 1, 1, 1, 0, 4] and (a ** 0).tolist() == [1] * 7  # plain powers still work
    assert (cl.tensor([2.0]) ** -1).tolist() == [0.5] and (cl.tensor(3) ** cl.tensor(2)).item() == 9


@pytest.mark.parametrize("op, err, msg", [
    (lambda x: x.relu(), RuntimeError, "Boolean inputs not supported for relu"),
    (lambda x: x.abs(), NotImplementedError, "\"abs_cpu\" not implemented for 'Bool'"),
    (lambda x: x.argmax(), RuntimeError, r"argmax\(\): does not support bool input"),
    (lambda x: x.argmin(0), RuntimeError, r"argmin\(\): does not support bool input"),
])
def test_bool_tensors_are_refused_where_pytorch_refuses_them(op, err, msg):
    with pytest.raises(err, match=msg):
        op(cl.tensor([True, False]))


def test_setting_requires_grad_and_grad_directly_is_checked_like_pytorch():
    x = cl.zeros(3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="^only Tensors of floating point and complex dtype can require gradients$"):
        cl.zeros(3, dtype=cl.int64).requires_grad = True
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables. If you want"):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match="^requires_grad must be a bool$"):
        cl.zeros(3).requires_grad = 1
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None but got grad of type int"):
        cl.zeros(3).grad = 3
    with pytest.raises(RuntimeError, match=r"attempting to assign a gradient of size '\[4\]' to a tensor of size '\[3\]'"):
        cl.zeros(3).grad = cl.zeros(4)
    with pytest.raises(RuntimeError, match="attempting to assign a gradient with dtype 'double' to a tensor with "
                                           "grad_dtype 'Float'"):
        cl.zeros(3).grad = cl.zeros(3, dtype=cl.float64)
    w = cl.zeros(3)
    w.requires_grad = True  # a leaf of a floating dtype: fine, and the flag is what autograd reads
    w.grad = cl.ones(1).expand(3)  # any layout of the right shape and dtype is accepted, as in PyTorch
    (w * w).sum().backward()
    assert w.requires_grad and w.grad.tolist() == [1.0, 1.0, 1.0]
    w.grad = None
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0, 3.0]


def test_max_with_a_dim_works_on_bool_tensors_though_argmax_does_not():
    x = cl.tensor([[False, True, True], [False, False, True]])
    values, indices = x.max(1)
    assert values.tolist() == [True, True] and indices.tolist() == [1, 2]
    assert x.min(0).values.tolist() == [False, False, True] and x.min(0).indices.tolist() == [0, 1, 0]
    with pytest.raises(RuntimeError, match=r"argmax\(\): does not support bool input"):
        cl.argmax(x, 1)


def test_a_numpy_integer_exponent_is_a_number_not_a_tensor():
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        cl.tensor([2, 1, -1]) ** np.int64(-1)
    assert (cl.tensor([2, 3]) ** np.int64(2)).tolist() == [4, 9]


def test_copies_and_files_keep_what_pytorchs_keep():
    """PyTorch 2.13: pickling drops .grad; deepcopy keeps a plain tensor's .grad but not a Parameter's (so a copied
    model starts without gradients); torch.save/load keeps requires_grad."""
    import io
    m = cl.nn.Linear(2, 2)
    m(cl.ones(1, 2)).sum().backward()
    m2 = copy.deepcopy(m)
    assert m2.weight.grad is None and m2.bias.grad is None and m.bias.grad is not None
    assert m2.weight.requires_grad and type(m2.weight).__name__ == "Parameter"
    t = cl.ones(2, requires_grad=True)
    (t * 2).sum().backward()
    assert copy.deepcopy(t).grad.tolist() == [2.0, 2.0]
    q = pickle.loads(pickle.dumps(t))
    assert q.grad is None and q.requires_grad
    buf = io.BytesIO()
    cl.save({"x": t, "y": cl.zeros(1)}, buf)
    buf.seek(0)
    back = cl.load(buf)
    assert back["x"].requires_grad and back["x"].is_leaf and not back["y"].requires_grad


# -- bad input: PyTorch's exception class, and a message that names what is wrong ----------------

@pytest.mark.parametrize("make, error, words", [
    (lambda: cl.tensor(["a"]), ValueError, "too many dimensions 'str'"),
    (lambda: cl.tensor(["a", 1]), ValueError, "too many dimensions 'str'"),
    (lambda: cl.tensor([1, "a"]), TypeError, "invalid data type 'str'"),
    (lambda: cl.tensor("a"), TypeError, "invalid data type 'str'"),
    (lambda: cl.tensor([b"a"]), TypeError, "invalid data type 'bytes'"),
    (lambda: cl.tensor([1., None]), RuntimeError, "Could not infer dtype of NoneType"),
    (lambda: cl.tensor([None, 1.]), RuntimeError, "Could not infer dtype of NoneType"),
    (lambda: cl.tensor({}), RuntimeError, "Could not infer dtype of dict"),
    (lambda: cl.tensor([object()]), RuntimeError, "Could not infer dtype of object"),
    (lambda: cl.tensor([2 ** 63]), ValueError, "Overflow when unpacking long long"),
    (lambda: cl.tensor(2 ** 63), ValueError, "Overflow when unpacking long long"),
    (lambda: cl.tensor([2 ** 64]), ValueError, "Overflow when unpacking long long"),
    (lambda: cl.tensor([-2 ** 63 - 1]), ValueError, "Overflow when unpacking long long"),
    (lambda: cl.tensor([2 ** 63], dtype=cl.int64), ValueError, "Overflow when unpacking long long"),
    (lambda: cl.tensor([300], dtype=cl.int8), RuntimeError, "cannot be converted to type int8 without overflow"),
    (lambda: cl.tensor(300, dtype=cl.int8), RuntimeError, "cannot be converted to type int8 without overflow"),
    (lambda: cl.tensor([300], dtype=cl.uint8), RuntimeError, "type uint8 without overflow"),
    (lambda: cl.tensor([-256], dtype=cl.uint8), RuntimeError, "type uint8 without overflow"),
    (lambda: cl.tensor([127.9], dtype=cl.int8), RuntimeError, "type int8 without overflow"),
    (lambda: cl.tensor([2 ** 31], dtype=cl.int32), RuntimeError, "type int32 without overflow"),
    (lambda: cl.tensor([float("nan")], dtype=cl.int64), RuntimeError, "type int64 without overflow"),
    (lambda: cl.full((2,), 300, dtype=cl.int8), RuntimeError, "type int8 without overflow"),
    (lambda: cl.randint(5, 5, (3,)), RuntimeError, "from=5 >= to=5"),
    (lambda: cl.randint(5, 3, (3,)), RuntimeError, "expects 'from' to be less than 'to'"),
    (lambda: cl.randint(0, (3,)), RuntimeError, "from=0 >= to=0"),
    (lambda: float(cl.ones(2)), ValueError, "only one element tensors can be converted to Python scalars"),
    (lambda: int(cl.ones(2)), ValueError, "only one element tensors can be converted to Python scalars"),
    (lambda: complex(cl.ones(0)), ValueError, "only one element tensors can be converted to Python scalars"),
    (lambda: cl.ones(2).item(), RuntimeError, "a Tensor with 2 elements cannot be converted to Scalar"),
    (lambda: cl.cat([]), ValueError, r"torch.cat\(\): expected a non-empty list of Tensors"),
    (lambda: cl.cat(()), ValueError, "expected a non-empty list"),
])
def test_bad_data_gets_pytorchs_exception_class(make, error, words):
    """The classes and words checked against PyTorch 2.13 (test_autograd_torch.py compares them when torch is
    installed)."""
    with pytest.raises(error, match=words):
        make()


def test_values_pytorch_accepts_are_still_accepted():
    assert cl.tensor([-1, -255], dtype=cl.uint8).tolist() == [255, 1]  # negative ints wrap, as in PyTorch
    assert cl.tensor([2.9, -1.7, 127.0], dtype=cl.int8).tolist() == [2, -1, 127]  # truncated toward zero
    assert cl.tensor([True, 2], dtype=cl.int8).tolist() == [1, 2]
    assert cl.tensor([2 ** 63], dtype=cl.float32).item() == 2.0 ** 63
    assert cl.tensor(np.array([300]), dtype=cl.int8).tolist() == [44]  # an array is cast, wrapping, as PyTorch
    assert cl.tensor([-2 ** 63, 2 ** 63 - 1]).tolist() == [-2 ** 63, 2 ** 63 - 1]
    assert cl.full((2,), -1, dtype=cl.uint8).tolist() == [255, 255]
    assert float(cl.ones(1, 1)) == 1.0 and int(cl.tensor([[7]])) == 7
    assert cl.randint(4, 5, (3,)).tolist() == [4, 4, 4]


# -- NumPy's floating-point warnings never escape: PyTorch is silent and gives inf or nan --------

def _edge_cases(lib=cl):
    """(name, fn(requires_grad) -> tensor, expected values) for ops whose NumPy kernels warn on these inputs; `lib`
    is course_lib, or torch to compare."""
    inf, nan = math.inf, math.nan

    def t(v, g=False, dtype=None):
        return lib.tensor(v, dtype=dtype or lib.float32, requires_grad=g)

    return [
        ("log(0), log(-1)", lambda g: lib.log(t([0., -1.], g)), [-inf, nan]),
        ("sqrt(-1)", lambda g: lib.sqrt(t([-1., 0.], g)), [nan, 0.]),
        ("exp overflow", lambda g: lib.exp(t([100.], g)), [inf]),
        ("x / 0", lambda g: t([1., 0., -1.], g) / t([0., 0., 0.]), [inf, nan, -inf]),
        ("x / 0.", lambda g: t([1.], g) / 0, [inf]),
        ("1 / x", lambda g: 1 / t([0.], g), [inf]),
        ("0 / 0", lambda g: t([0.], g) / t([0.], g), [nan]),
        ("int / 0", lambda g: lib.tensor([1, 0]) / lib.tensor([0, 0]), [inf, nan]),
        ("inf * 0", lambda g: t([inf], g) * t([0.]), [nan]),
        ("inf - inf", lambda g: t([inf], g) - t([inf]), [nan]),
        ("float32 overflow in add", lambda g: t([3e38], g) + t([3e38]), [inf]),
        ("0 ** -1", lambda g: t([0.], g) ** -1, [inf]),
        ("(-1) ** 0.5", lambda g: t([-1.], g) ** 0.5, [nan]),
        ("0. ** x", lambda g: 0. ** t([-1.], g), [inf]),
        ("sin(inf)", lambda g: lib.sin(t([inf], g)), [nan]),
        ("cos(inf)", lambda g: lib.cos(t([inf], g)), [nan]),
        ("softmax of an all -inf row", lambda g: lib.softmax(t([[-inf, -inf]], g), 1), [[nan, nan]]),
        ("log_softmax of an all -inf row", lambda g: lib.log_softmax(t([[-inf, -inf]], g), 1), [[nan, nan]]),
        ("logsumexp of -inf", lambda g: lib.logsumexp(t([[-inf, -inf]], g), 1), [-inf]),
        ("logsumexp of inf", lambda g: lib.logsumexp(t([[inf, 1.]], g), 1), [inf]),
        ("mean of nothing", lambda g: t([], g).mean(), nan),
        ("mean over an empty dim", lambda g: lib.zeros(0, 2, requires_grad=g).mean(0), [nan, nan]),
        ("float16 sum overflow", lambda g: lib.full((4,), 6e4, dtype=lib.float16).sum(), inf),
        ("matmul inf * 0", lambda g: t([[inf, 0.]], g) @ t([[0.], [1.]]), [[nan]]),
        ("tensor([1e40]) in float32", lambda g: t([1e40], g), [inf]),
        ("cast to float16", lambda g: t([1e5], g).half(), [inf]),
        ("float16 * a number, past float16's range", lambda g: t([0., 6e4], g).half() * 4, [0., inf]),
        ("float16 in place * a number", lambda g: t([0., 6e4]).half().mul_(4), [0., inf]),
        ("cross_entropy of -inf logits", lambda g: lib.nn.functional.cross_entropy(t([[-inf, -inf]], g),
                                                                                  lib.tensor([0])), nan),
        ("mse_loss overflow", lambda g: lib.nn.functional.mse_loss(t([1e30], g), t([-1e30])), inf),
        ("in place / 0", lambda g: t([1., 0.]).div_(0.), [inf, nan]),
        ("in place * inf", lambda g: t([0.]).mul_(inf), [nan]),
    ]


@pytest.mark.parametrize("requires_grad", [False, True])
def test_numpy_floating_point_warnings_never_escape(requires_grad):
    import warnings
    for name, fn, expected in _edge_cases():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = fn(requires_grad)
            if out.requires_grad:
                out.sum().backward()  # the backward pass is silent too (its gradients are inf or nan)
        np.testing.assert_array_equal(out.detach().float().numpy(), np.array(expected, dtype=np.float32),
                                      err_msg=name)


def test_an_optimizer_step_on_inf_gradients_is_silent():
    import warnings
    for make in (lambda p: cl.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True),
                 lambda p: cl.optim.Adam([p], lr=0.1, amsgrad=True), lambda p: cl.optim.AdamW([p], eps=0.)):
        p = cl.nn.Parameter(cl.ones(3))
        opt = make(p)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(2):
                p.grad = cl.tensor([math.inf, math.nan, 0.])
                opt.step()
        assert np.isnan(p.detach().numpy()[:2]).all() or np.isinf(p.detach().numpy()[:2]).any()


def test_the_callers_numpy_still_warns_and_raises_as_it_was_set():
    """course_lib silences NumPy only while its own code runs: the caller's settings are untouched, and a caller's
    np.errstate(all='raise') does not turn course_lib's inf into an error (PyTorch is silent there too)."""
    import warnings
    before = np.geterr()
    cl.log(cl.tensor([0.]))
    (cl.tensor([0.], requires_grad=True).log()).sum().backward()
    assert np.geterr() == before
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        np.log(np.zeros(1))
    with np.errstate(all="raise"):
        assert cl.log(cl.tensor([0.])).item() == -math.inf
        with pytest.raises(FloatingPointError):
            np.log(np.zeros(1))
    with pytest.raises(RuntimeError, match="boom"):  # an error inside an op restores the setting too
        class Boom(autograd.Function):
            @staticmethod
            def forward(ctx, x):
                raise RuntimeError("boom")
        Boom.apply(cl.ones(1))
    assert np.geterr() == before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.ones(1) + 1  # and nothing here warns


def test_var_and_std_of_too_few_elements_warn_as_pytorch_does():
    """PyTorch: a UserWarning (not NumPy's RuntimeWarning) and the values inf or nan."""
    import warnings
    with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
        assert math.isnan(cl.tensor([1.]).var().item())
    with pytest.warns(UserWarning, match=r"std\(\): degrees of freedom is <= 0"):
        assert math.isnan(cl.tensor([1.]).std().item())
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert cl.tensor([1., 2., 3.]).var(correction=3).item() == math.inf
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(cl.ones(0, 2).var(0).numpy()).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cl.tensor([1., 3.]).var().item() == 2.0


def test_tutorial_surface_log10_nelement_and_random_like():
    """Functions PyTorch's tutorials reach for (issue 18, family 1): same values, gradients, dtypes and node names."""
    torch = pytest.importorskip("torch")
    import numpy as np

    import course_lib

    data = np.array([[0.5, 1.0], [10.0, 123.0]])
    x, tx = course_lib.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    y, ty = x.log10(), torch.log10(tx)
    assert np.allclose(y.detach().numpy(), ty.detach().numpy())
    y.sum().backward(), ty.sum().backward()
    assert np.allclose(x.grad.numpy(), tx.grad.numpy())
    assert y.grad_fn.name() == ty.grad_fn.name() == "Log10Backward0"
    assert course_lib.log10(course_lib.tensor([1, 1000])).dtype == course_lib.float32  # integers promote, as in torch
    assert torch.log10(torch.tensor([1, 1000])).dtype == torch.float32
    assert x.nelement() == tx.nelement() == 4
    h = course_lib.ones(2, 3, dtype=course_lib.float64)
    for name in ("empty_like", "rand_like", "randn_like"):
        ours, theirs = getattr(course_lib, name)(h), getattr(torch, name)(torch.ones(2, 3, dtype=torch.float64))
        assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype)[-7:] == str(theirs.dtype)[-7:], name
        assert getattr(course_lib, name)(h, dtype=course_lib.float32).dtype == course_lib.float32
        assert getattr(course_lib, name)(h, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError):
        torch.rand_like(torch.ones(2, dtype=torch.int64))
    with pytest.raises(RuntimeError):
        course_lib.rand_like(course_lib.ones(2, dtype=course_lib.int64))
