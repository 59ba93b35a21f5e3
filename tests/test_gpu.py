"""On a machine with CUDA and CuPy: every op and gradient on 'cuda' against 'cpu', the fused GELU kernel against
its reference, and a training step end to end. Skipped without a GPU (tests/conftest.py)."""
import numpy as np
import pytest

import course_lib
from course_lib import cuda
from course_lib.fused_gelu import _gelu_backward_array, _gelu_cuda_kernel, _gelu_forward_array, gelu, gelu_composed

from test_device import BINARY, UNARY, UNARY_POSITIVE, A, B, M, P  # the same op table as the sim tests

pytestmark = pytest.mark.gpu


def to_np(t):
    return t.detach().cpu().numpy()


def pair(a):
    c = course_lib.tensor(a).requires_grad_()
    g = course_lib.tensor(a).cuda().requires_grad_()
    return c, g


def on_cuda(t):
    import cupy
    return t.device == "cuda" and isinstance(t._arr, cupy.ndarray)


def test_cuda_is_there():
    assert cuda.is_available() and cuda.device_count() >= 1
    assert isinstance(cuda.get_device_name(), str) and cuda.get_device_name()
    cuda.synchronize()


def test_move_and_views():
    x = course_lib.arange(24, dtype=course_lib.float32).reshape(2, 3, 4)
    g = x.cuda()
    assert on_cuda(g) and g.cpu().device == "cpu"
    for view in (lambda t: t.permute(2, 0, 1), lambda t: t[1:, ::2, 1:3], lambda t: t[:, :1].expand(2, 5, 4),
                 lambda t: t.transpose(0, 2).contiguous().view(-1)):
        v = view(g)
        assert on_cuda(v)
        np.testing.assert_array_equal(to_np(v), to_np(view(x)))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        x + g


@pytest.mark.parametrize("name", list(UNARY) + list(UNARY_POSITIVE))
def test_unary_ops_and_gradients_on_cuda(name):
    fn = UNARY.get(name) or UNARY_POSITIVE[name]
    c, g = pair(P if name in UNARY_POSITIVE else A)
    oc, og = fn(c), fn(g)
    assert on_cuda(og)
    np.testing.assert_allclose(to_np(og), to_np(oc), rtol=1e-4, atol=1e-5)
    oc.sum().backward()
    og.sum().backward()
    assert on_cuda(g.grad)
    np.testing.assert_allclose(to_np(g.grad), to_np(c.grad), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops_and_gradients_on_cuda(name):
    (c1, g1), (c2, g2) = pair(A), pair(B)
    oc, og = BINARY[name](c1, c2), BINARY[name](g1, g2)
    assert on_cuda(og)
    np.testing.assert_allclose(to_np(og), to_np(oc), rtol=1e-4, atol=1e-5)
    oc.sum().backward()
    og.sum().backward()
    for lc, lg in ((c1, g1), (c2, g2)):
        np.testing.assert_allclose(to_np(lg.grad), to_np(lc.grad), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_kernel_equals_reference(dtype):
    import cupy
    x = np.linspace(-8, 8, 4099).astype(dtype)
    g = np.random.default_rng(0).standard_normal(4099).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    k_fwd = _gelu_cuda_kernel("forward", cupy)
    k_bwd = _gelu_cuda_kernel("backward", cupy)
    np.testing.assert_allclose(cupy.asnumpy(k_fwd(cupy.asarray(x))), _gelu_forward_array(x), **tol)
    np.testing.assert_allclose(cupy.asnumpy(k_bwd(cupy.asarray(x), cupy.asarray(g))), _gelu_backward_array(x, g), **tol)
    # through autograd, strided input, against the composition on the GPU
    xt = course_lib.tensor(x.reshape(-1, 1)).cuda().t().requires_grad_()
    xc = course_lib.tensor(x.reshape(-1, 1)).cuda().t().requires_grad_()
    y1, y2 = gelu(xt), gelu_composed(xc)
    (y1 * y1).sum().backward()
    (y2 * y2).sum().backward()
    assert on_cuda(y1) and on_cuda(xt.grad)
    np.testing.assert_allclose(to_np(y1), to_np(y2), **tol)
    np.testing.assert_allclose(to_np(xt.grad), to_np(xc.grad), rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)


def test_training_step_end_to_end():
    def run(device):
        g = np.random.default_rng(0)
        x = course_lib.tensor(g.standard_normal((64, 8)).astype(np.float32)).to(device)
        y = course_lib.tensor(np.eye(3, dtype=np.float32)[g.integers(0, 3, 64)]).to(device)
        params = [course_lib.tensor(a.astype(np.float32)).to(device).requires_grad_()
                  for a in (g.standard_normal((8, 32)) / 3, np.zeros(32), g.standard_normal((32, 3)) / 6, np.zeros(3))]
        w1, b1, w2, b2 = params
        losses = []
        for _ in range(20):
            out = (gelu(x @ w1 + b1) @ w2 + b2).log_softmax(1)
            loss = -(out * y).sum() / 64
            loss.backward()
            with course_lib.no_grad():
                for p in params:
                    p -= 0.5 * p.grad
                    p.grad = None
            losses.append(loss.detach())
        assert all(p.device == device for p in params)
        return np.array([l.item() for l in losses])
    cpu, gpu = run("cpu"), run("cuda")
    np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-5)
    assert gpu[-1] < gpu[0] * 0.8  # it learns


def test_inplace_writes_into_views_on_cuda():
    """CopySlices / RegionOf on CuPy arrays: the region's positions and the scatter-add stay on the GPU."""
    def program(x, w):
        y = x * 1.0
        early = y[0]
        y[1:, ::2].mul_(w[:2, :2])
        y.t()[1].add_(2.0)
        return (y * y).sum() + (early * 3.0).sum()

    (xc, xg), (wc, wg) = pair(A), pair(A)
    program(xc, wc).backward()
    program(xg, wg).backward()
    assert on_cuda(xg.grad) and on_cuda(wg.grad)
    np.testing.assert_allclose(to_np(xg.grad), to_np(xc.grad), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_np(wg.grad), to_np(wc.grad), rtol=1e-5, atol=1e-6)
