"""Recurrent networks from scratch in NumPy: every layer a forward/backward pair (no torch here).

A ``*_forward`` function returns its output and a ``cache``; the matching ``*_backward`` takes the
gradient of the loss with respect to that output and the cache, and returns the gradients with
respect to the inputs, each with the shape of what it differentiates. Arrays are batch-major,
weights are stored as (out_features, in_features), and the gates are stacked in PyTorch's order,
so the weights copy straight into ``torch.nn.RNN``, ``LSTM`` and ``GRU``.

Recurrent cells (``rnn``, ``lstm``, ``gru``):
    rnn_step_forward / rnn_step_backward      one tanh RNN step
    rnn_forward / rnn_backward                a whole sequence, full BPTT
    lstm_step_forward / lstm_step_backward    one LSTM step, line by line from the equations
    lstm_forward / lstm_backward              a whole sequence, reorganised for speed
    lstm_final_state                          (h_T, c_T) from an lstm_forward cache
    lstm_forward_by_steps / lstm_backward_by_steps
                                              the readable step loop: the fast path's reference
    gru_step_forward / gru_step_backward      one GRU step (torch.nn.GRU's variant)
    gru_forward / gru_backward                a whole sequence, full BPTT
    gru_state_jacobian                        dh_t/dh_{t-1} of a GRU step, (N, H, H)

Layers around them (``layers``):
    sigmoid                                   the logistic function, overflow-free
    embedding_forward / embedding_backward    token ids -> vectors
    temporal_affine_forward / temporal_affine_backward
                                              the same affine output layer at every step
    temporal_softmax_loss_forward / temporal_softmax_loss_backward
                                              masked softmax cross-entropy over time

Truncated BPTT (``tbptt``):
    chunk_sequence                            cut (N, T, ...) into chunks of k steps
    rnn_tbptt / lstm_tbptt / gru_tbptt        loss and gradients with chunks of k steps

Gradients over distance (``jacobian``):
    state_jacobian                            dh_T/dh_0, the product of the steps' Jacobians
    jacobian_norms                            the norm of dh_T/dh_{T-d} for every distance d

A character-level language model (``charlm``; its sampler is ``rnnbook.scratch.charlm.sample``):
    init_char_rnn                             the parameter dict of embedding, RNN and output
    char_rnn_loss                             one chunk's loss, gradients and final state
    stream_layout                             a long text as N parallel, contiguous streams
    TBPTTTrainer                              truncated BPTT with the state carried across chunks
    evaluate_nats                             mean nats per character of a held-out text

Checking and training (``gradcheck``, ``optim``):
    numerical_gradient                        central differences
    relative_error                            max |a - b| / max (|a| + |b|)
    clip_grad_norm                            clip by global norm
    SGD, Adagrad, Adam                        update rules on dicts of arrays, in place
"""

from rnnbook.scratch.charlm import (
    TBPTTTrainer,
    char_rnn_loss,
    evaluate_nats,
    init_char_rnn,
    stream_layout,
)
from rnnbook.scratch.gradcheck import numerical_gradient, relative_error
from rnnbook.scratch.gru import (
    gru_backward,
    gru_forward,
    gru_state_jacobian,
    gru_step_backward,
    gru_step_forward,
)
from rnnbook.scratch.jacobian import jacobian_norms, state_jacobian
from rnnbook.scratch.layers import (
    embedding_backward,
    embedding_forward,
    sigmoid,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss_backward,
    temporal_softmax_loss_forward,
)
from rnnbook.scratch.lstm import (
    lstm_backward,
    lstm_backward_by_steps,
    lstm_final_state,
    lstm_forward,
    lstm_forward_by_steps,
    lstm_step_backward,
    lstm_step_forward,
)
from rnnbook.scratch.optim import SGD, Adagrad, Adam, clip_grad_norm
from rnnbook.scratch.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from rnnbook.scratch.tbptt import chunk_sequence, gru_tbptt, lstm_tbptt, rnn_tbptt

__all__ = [
    "SGD",
    "TBPTTTrainer",
    "char_rnn_loss",
    "evaluate_nats",
    "init_char_rnn",
    "jacobian_norms",
    "state_jacobian",
    "stream_layout",
    "Adagrad",
    "Adam",
    "chunk_sequence",
    "clip_grad_norm",
    "embedding_backward",
    "embedding_forward",
    "gru_backward",
    "gru_forward",
    "gru_state_jacobian",
    "gru_step_backward",
    "gru_step_forward",
    "gru_tbptt",
    "lstm_backward",
    "lstm_backward_by_steps",
    "lstm_final_state",
    "lstm_forward",
    "lstm_forward_by_steps",
    "lstm_step_backward",
    "lstm_step_forward",
    "lstm_tbptt",
    "numerical_gradient",
    "relative_error",
    "rnn_backward",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "rnn_tbptt",
    "sigmoid",
    "temporal_affine_backward",
    "temporal_affine_forward",
    "temporal_softmax_loss_backward",
    "temporal_softmax_loss_forward",
]
