// Fused classification losses.
//
// cross_entropy_forward: for each row of logits[rows, classes] with an int32 label, the stable
// log-sum-exp, the row's loss lse − logit[label], and the softmax probabilities (kept for the
// backward pass). A label outside [0, classes) yields a NaN loss, which the training loop reports.
// cross_entropy_backward: dlogits = (probabilities − onehot(label)) · dloss[row].
// One work-item per row.

__kernel void cross_entropy_forward(__global const float* logits, __global const int* labels,
                                    __global float* losses, __global float* probabilities,
                                    int rows, int classes) {
    int row = get_global_id(0);
    if (row >= rows) return;
    __global const float* x = logits + (long)row * classes;
    __global float* p = probabilities + (long)row * classes;
    float m = -INFINITY;
    for (int j = 0; j < classes; ++j) m = fmax(m, x[j]);
    float total = 0.0f;
    for (int j = 0; j < classes; ++j) {
        float e = exp(x[j] - m);
        p[j] = e;
        total += e;
    }
    float inverse = 1.0f / total;
    for (int j = 0; j < classes; ++j) p[j] *= inverse;
    int label = labels[row];
    losses[row] = (label >= 0 && label < classes) ? (log(total) + m - x[label]) : NAN;
}

__kernel void cross_entropy_backward(__global const float* probabilities, __global const int* labels,
                                     __global const float* dloss, __global float* dlogits,
                                     int rows, int classes) {
    int gid = get_global_id(0);
    if (gid >= rows * classes) return;
    int row = gid / classes, j = gid % classes;
    float onehot = labels[row] == j ? 1.0f : 0.0f;
    dlogits[gid] = (probabilities[gid] - onehot) * dloss[row];
}
