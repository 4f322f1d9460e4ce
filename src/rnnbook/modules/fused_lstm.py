"""A fast LSTM layer: one direction over a whole sequence, backpropagation through time by hand.

The readable way to run an LSTM over a sequence is a Python loop over
:func:`~rnnbook.modules.cells.lstm_step`, letting autograd record every small operation; autograd
then replays about twenty of them backwards per time step. This module computes the same numbers
faster, with three ideas:

1. **Hoist the input projection.** ``W_ih x_t + b_ih + b_hh`` does not depend on the state, so it
   is one (T*N, D) @ (D, 4H) product for the whole sequence instead of T small ones.
2. **Write backpropagation through time by hand** in a :class:`torch.autograd.Function`. Only the
   parts that truly depend on the previous step stay in the time loop; every factor that is known
   once the forward pass is over (the gate derivatives) is computed for all steps at once.
3. **Accumulate the weight gradients after the loop**: ``dW_hh = sum_t dG_t^T h_{t-1}`` is one
   product of the (T*N, 4H) gate gradients with the (T*N, H) previous states.

Backward, for t = T-1, ..., 0, with i, f, g, o the activated gates of step t, ``dh`` the gradient
reaching h_t (from the output and from step t+1) and ``dc`` the gradient reaching c_t from step
t+1::

    dc  += dh * o * (1 - tanh(c_t)^2)
    dG_i = dc * g * i (1 - i)          dG_f = dc * c_{t-1} * f (1 - f)
    dG_g = dc * i * (1 - g^2)          dG_o = dh * tanh(c_t) * o (1 - o)
    dc_{t-1} = dc * f                  dh_{t-1} = dG_t @ W_hh   (+ the output's gradient at t-1)

The function is differentiable once: ask for second derivatives (``create_graph=True``) through the
reference loop instead (``LSTM(..., fused=False)``).
"""

import torch
from torch.autograd.function import once_differentiable


def fused_lstm_layer(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """Run one LSTM layer forward in time over a batch of sequences.

    Equal to looping :func:`~rnnbook.modules.cells.lstm_step` over t = 0, ..., T-1 (the tests check
    forward values and gradients to 1e-10 in float64), only faster.

    Args:
        x: input sequence, shape (T, N, D).
        h0, c0: initial hidden and cell state, shape (N, H) each.
        weight_ih: (4H, D).  weight_hh: (4H, H).  bias_ih, bias_hh: (4H,) each, or both None.

    Returns:
        ``(output, h_n, c_n)``: the hidden states of every step (T, N, H), and the last hidden and
        cell state (N, H) each.
    """
    return _FusedLSTMLayer.apply(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)


class _FusedLSTMLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
        T, N, D = x.shape
        H = weight_hh.shape[1]
        x2d = x.reshape(T * N, D)
        # A CPU trick: tanh(z) = 2 sigmoid(2z) - 1, and torch's sigmoid is much cheaper than its
        # tanh. With the g rows of the weights doubled, one sigmoid over all four gates gives
        # i, f, o and s = sigmoid(2 g_pre), from which g = 2 s - 1.
        scale = x.new_ones(4 * H, 1)
        scale[2 * H : 3 * H] = 2
        w_ih, w_hh = weight_ih * scale, weight_hh * scale
        # 1. The input projection of every step at once. The loop adds W_hh h_{t-1} in place and
        #    applies the sigmoid in place, so `acts` ends up holding i, f, s, o of every step.
        if bias_ih is None:
            acts = (x2d @ w_ih.T).view(T, N, 4 * H)
        else:
            acts = torch.addmm((bias_ih + bias_hh) * scale[:, 0], x2d, w_ih.T).view(T, N, 4 * H)
        w_hh_t = w_hh.T
        h, c = h0, c0
        cs, tanh_cs, hs = [], [], []
        for a in acts:  # a: the gates of one step, (N, 4H); iterating walks the first axis
            a.addmm_(h, w_hh_t)
            a.sigmoid_()
            i, f, s, o = a.chunk(4, dim=1)
            c = f * c  # c_t = f * c_{t-1} + i * g  with  g = 2 s - 1
            c.addcmul_(i, s, value=2).sub_(i)
            tanh_c = c.tanh()
            h = o * tanh_c  # h_t = o * tanh(c_t)
            cs.append(c)
            tanh_cs.append(tanh_c)
            hs.append(h)
        acts[..., 2 * H : 3 * H].mul_(2).sub_(1)  # s -> g = tanh(g_pre), for every step at once
        cs, tanh_cs, hs = torch.stack(cs), torch.stack(tanh_cs), torch.stack(hs)
        ctx.save_for_backward(x2d, h0, c0, weight_ih, weight_hh, acts, cs, tanh_cs, hs)
        ctx.has_bias = bias_ih is not None
        return hs, hs[-1].clone(), cs[-1].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_hn, grad_cn):
        x2d, h0, c0, weight_ih, weight_hh, acts, cs, tanh_cs, hs = ctx.saved_tensors
        T, N, H = hs.shape
        i, f, g, o = acts.chunk(4, dim=2)
        # 2. The factors that do not depend on the incoming gradient, for all steps at once,
        #    written straight into the buffer that the loop turns into the gate gradients dG:
        #    dG = [dc * B_i, dc * B_f, dc * B_g, dh * B_o].
        dG = torch.empty_like(acts)
        B_i, B_f, B_g, B_o = dG.chunk(4, dim=2)
        torch.mul(i, g, out=B_i)
        torch.addcmul(i, B_i, g, value=-1, out=B_g)  # i - i g g   = i (1 - g^2)
        B_i.addcmul_(B_i, i, value=-1)  # i g - i g i = g i (1 - i)
        torch.mul(f[1:], cs[:-1], out=B_f[1:])
        torch.mul(f[0], c0, out=B_f[0])
        B_f.addcmul_(B_f, f, value=-1)  # c_{t-1} f (1 - f)
        torch.addcmul(hs, hs, o, value=-1, out=B_o)  # h - h o = tanh(c) o (1 - o)
        A = torch.addcmul(o, hs, tanh_cs, value=-1)  # o - h tanh(c) = o (1 - tanh(c)^2)

        dh = grad_out[T - 1] + grad_hn  # gradient reaching h_t
        dc = grad_cn.clone()  # gradient reaching c_t from step t+1
        dc_3 = dc.unsqueeze(1)  # (N, 1, H): a view, so it follows the in-place updates of dc
        dG_ifg = dG[..., : 3 * H].view(T, N, 3, H)  # i, f, g share the factor dc
        for t in range(T - 1, -1, -1):
            dc.addcmul_(dh, A[t])
            dG_ifg[t].mul_(dc_3)
            B_o[t].mul_(dh)
            dc.mul_(f[t])  # now the gradient reaching c_{t-1}
            if t:
                dh = torch.addmm(grad_out[t - 1], dG[t], weight_hh)  # reaches h_{t-1}
            else:
                dh = dG[0] @ weight_hh  # reaches h_0

        # 3. Gradients of the input and of the weights: one product each over all steps.
        dG2d = dG.view(T * N, 4 * H)
        need = ctx.needs_input_grad
        dx = (dG2d @ weight_ih).view(T, N, -1) if need[0] else None
        dw_ih = dG2d.T @ x2d if need[3] else None
        dw_hh = None
        if need[4]:  # sum over t of dG_t^T h_{t-1}: h_0 for t = 0, the output before
            dw_hh = dG2d[N:].T @ hs[:-1].reshape((T - 1) * N, H)
            dw_hh.addmm_(dG2d[:N].T, h0)
        db_ih = db_hh = None
        if ctx.has_bias and (need[5] or need[6]):
            db_ih = dG2d.sum(0)
            db_hh = db_ih.clone()
        return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh
