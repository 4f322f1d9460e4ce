"""A fast LSTM layer: one direction over a whole sequence, with backpropagation through time by hand.

The readable way to run an LSTM over a sequence is a Python loop over :func:`~rnnbook.modules.cells.
lstm_step` and letting autograd record every small operation; autograd then replays about twenty
of them backwards per time step. This module computes the same numbers faster, with three ideas:

1. **Hoist the input projection.** ``W_ih x_t + b_ih + b_hh`` does not depend on the state, so it
   is one (T*N, D) @ (D, 4H) product for the whole sequence instead of T small ones.
2. **Write backpropagation through time by hand** in a :class:`torch.autograd.Function`. Only the
   parts that truly depend on the previous step stay in the time loop; every factor that is known
   once the forward pass is over (the gate derivatives) is computed for all steps at once.
3. **Accumulate the weight gradients after the loop**: ``dW_hh = sum_t dG_t^T h_{t-1}`` is one
   product of the (T*N, 4H) gate gradients with the (T*N, H) previous states.

Backward, for t = T-1, ..., 0, with a_t the activated gates (i, f, g, o), ``dh`` the gradient
reaching h_t (from the output and from step t+1) and ``dc`` the gradient reaching c_t from step t+1::

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
        # 1. The input projection of every step at once; the loop adds W_hh h_{t-1} in place and
        #    then overwrites each row block with its activated gate, so `acts` ends up holding
        #    (i, f, g, o) after the nonlinearities.
        if bias_ih is None:
            acts = (x2d @ weight_ih.T).view(T, N, 4 * H)
        else:
            acts = torch.addmm(bias_ih + bias_hh, x2d, weight_ih.T).view(T, N, 4 * H)
        cs = x.new_empty(T, N, H)  # cell states c_t
        tanh_cs = x.new_empty(T, N, H)  # tanh(c_t)
        hs = x.new_empty(T, N, H)  # hidden states h_t: the output
        h, c = h0, c0
        w_hh_t = weight_hh.T
        for t in range(T):
            a = acts[t]
            a.addmm_(h, w_hh_t)
            a[:, : 2 * H].sigmoid_()  # i, f
            a[:, 2 * H : 3 * H].tanh_()  # g
            a[:, 3 * H :].sigmoid_()  # o
            i, f, g, o = a.chunk(4, dim=1)
            torch.mul(f, c, out=cs[t])
            cs[t].addcmul_(i, g)
            torch.tanh(cs[t], out=tanh_cs[t])
            torch.mul(o, tanh_cs[t], out=hs[t])
            h, c = hs[t], cs[t]
        ctx.save_for_backward(x2d, h0, c0, weight_ih, weight_hh, acts, cs, tanh_cs, hs)
        ctx.has_bias = bias_ih is not None
        return hs, hs[-1].clone(), cs[-1].clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_hn, grad_cn):
        x2d, h0, c0, weight_ih, weight_hh, acts, cs, tanh_cs, hs = ctx.saved_tensors
        T, N, H = hs.shape
        i, f, g, o = acts.chunk(4, dim=2)
        c_prev = torch.cat([c0.unsqueeze(0), cs[:-1]])
        # 2. Every factor that does not depend on the incoming gradient, for all steps at once.
        #    dG_{i,f,g} = dc * B[..., :3H] and dG_o = dh * B[..., 3H:].
        B = torch.cat([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g),
                       tanh_cs * o * (1 - o)], dim=2)
        A = o * (1 - tanh_cs * tanh_cs)  # d c_t / d h_t through h_t = o tanh(c_t)
        dG = torch.empty_like(acts)  # gradient w.r.t. the gates before their nonlinearities
        dh = grad_out[T - 1] + grad_hn
        dc = grad_cn.clone()
        for t in range(T - 1, -1, -1):
            dc.addcmul_(dh, A[t])
            torch.mul(B[t, :, : 3 * H].view(N, 3, H), dc.unsqueeze(1),
                      out=dG[t, :, : 3 * H].view(N, 3, H))
            torch.mul(B[t, :, 3 * H :], dh, out=dG[t, :, 3 * H :])
            dc.mul_(f[t])
            dh = torch.addmm(grad_out[t - 1], dG[t], weight_hh) if t else dG[0] @ weight_hh
        # 3. Gradients of the input and of the weights, one product each over all steps.
        dG2d = dG.view(T * N, 4 * H)
        need = ctx.needs_input_grad
        dx = (dG2d @ weight_ih).view(T, N, -1) if need[0] else None
        dw_ih = dG2d.T @ x2d if need[3] else None
        dw_hh = None
        if need[4]:
            h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]]).view(T * N, H)
            dw_hh = dG2d.T @ h_prev
        db_ih = db_hh = None
        if ctx.has_bias and (need[5] or need[6]):
            db_ih = dG2d.sum(0)
            db_hh = db_ih.clone()
        return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh
