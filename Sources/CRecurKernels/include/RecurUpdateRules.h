#ifndef RECUR_UPDATE_RULES_H
#define RECUR_UPDATE_RULES_H
/*
 * The optimizers' update rules on n host scalars, in place (Recur's `UpdateRule`, Keras's formulas): w
 * the variable, g its gradient, s0 and s1 its slots. The buffers do not overlap. Each scalar follows
 * the same operations in the same order as the scalar loop would (no contraction into FMAs), so that a
 * rule's result does not depend on the CPU's vector width.
 */

/* v ← μv − ηg; w ← w + v (Nesterov: w ← w + μv − ηg), s0 = v; without momentum (μ = 0) w ← w − ηg and
   s0 is not read. */
void recur_update_sgd(float *w, const float *g, float *s0, long n, float learning_rate, float momentum, int nesterov);

/* m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂); w ← w − α·m/(√v + ε), with α the step's
   bias-corrected learning rate; s0 = m, s1 = v. */
void recur_update_adam(float *w, const float *g, float *s0, float *s1, long n, float alpha, float beta1, float beta2,
                       float epsilon);

/* a ← ρa + (1 − ρ)g²; Δ = ηg/√(a + ε); with momentum (μ > 0) s ← μs + Δ, w ← w − s, else w ← w − Δ;
   s0 = a, s1 = s (not read without momentum). */
void recur_update_rmsprop(float *w, const float *g, float *s0, float *s1, long n, float learning_rate, float rho,
                          float momentum, float epsilon);

#endif
