// Fused optimizer updates: one pass per parameter reads the gradient, updates the state and writes
// the parameter in place. The formulas follow PyTorch's torch.optim (weight decay as an L2 term
// added to the gradient, except AdamW's decoupled decay). Scalars that depend on the step count
// (Adam's bias corrections) are computed on the host, so no step needs a host round trip.

// SGD with momentum (PyTorch, dampening 0; a zero-initialised buffer equals PyTorch's first step).
__kernel void sgd_update(__global float* param, __global const float* grad, __global float* velocity,
                         int n, float lr, float momentum, float weight_decay, int nesterov) {
    int i = get_global_id(0);
    if (i >= n) return;
    float g = grad[i] + weight_decay * param[i];
    if (momentum != 0.0f) {
        float v = momentum * velocity[i] + g;
        velocity[i] = v;
        g = nesterov ? g + momentum * v : v;
    }
    param[i] -= lr * g;
}

// Adam / AdamW. step_size = lr / (1 − β1ᵗ); bias2 = √(1 − β2ᵗ); decay = lr·λ for AdamW, else 0
// (Adam's λ goes into the gradient as l2).
__kernel void adam_update(__global float* param, __global const float* grad, __global float* m,
                          __global float* v, int n, float beta1, float beta2, float eps,
                          float step_size, float bias2, float l2, float decay) {
    int i = get_global_id(0);
    if (i >= n) return;
    float p = param[i] * (1.0f - decay);
    float g = grad[i] + l2 * p;
    float mi = beta1 * m[i] + (1.0f - beta1) * g;
    float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p - step_size * mi / (sqrt(vi) / bias2 + eps);
}

// RMSProp (PyTorch: the denominator is √(mean square) + ε; optional momentum buffer).
__kernel void rmsprop_update(__global float* param, __global const float* grad, __global float* square_avg,
                             __global float* buffer, int n, float lr, float alpha, float eps,
                             float weight_decay, float momentum) {
    int i = get_global_id(0);
    if (i >= n) return;
    float g = grad[i] + weight_decay * param[i];
    float s = alpha * square_avg[i] + (1.0f - alpha) * g * g;
    square_avg[i] = s;
    float step = g / (sqrt(s) + eps);
    if (momentum != 0.0f) {
        step = momentum * buffer[i] + step;
        buffer[i] = step;
    }
    param[i] -= lr * step;
}

// AdaGrad (PyTorch, no learning-rate decay).
__kernel void adagrad_update(__global float* param, __global const float* grad, __global float* sum,
                             int n, float lr, float eps, float weight_decay) {
    int i = get_global_id(0);
    if (i >= n) return;
    float g = grad[i] + weight_decay * param[i];
    float s = sum[i] + g * g;
    sum[i] = s;
    param[i] -= lr * g / (sqrt(s) + eps);
}
