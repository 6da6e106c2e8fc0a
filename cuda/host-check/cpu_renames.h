/* cuda/tensor.cu and cuda/nn.cu name some kernels as the CPU kernels of Sources/CRecurKernels are named
   (with other parameter types), and the host check links both. scripts/cuda-host-check.sh builds
   RecurKernels.c with this file force-included (-include), so its definitions get a cpu_ prefix;
   check.cpp includes it around RecurKernels.h, then again with CPU_RENAMES_UNDO defined to drop the
   macros. A name missing here shows up as a duplicate symbol when the check links. */
#ifndef CPU_RENAMES_UNDO
#define recur_binary cpu_recur_binary
#define recur_scale cpu_recur_scale
#define recur_sum cpu_recur_sum
#define recur_lstm_gates_forward cpu_recur_lstm_gates_forward
#define recur_lstm_gates_backward cpu_recur_lstm_gates_backward
#define recur_gru_gates_forward cpu_recur_gru_gates_forward
#define recur_gru_gates_backward cpu_recur_gru_gates_backward
#else
#undef recur_binary
#undef recur_scale
#undef recur_sum
#undef recur_lstm_gates_forward
#undef recur_lstm_gates_backward
#undef recur_gru_gates_forward
#undef recur_gru_gates_backward
#endif
